#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "services/tail/flag.h"

namespace vigil::tail {

struct TableStyle {
  bool color = false;  // ANSI colours (severity, bold header)
  int width = 160;     // terminal columns; only the reason column shrinks or grows with it
};

// Column header line, with a trailing newline.
std::string table_header(const TableStyle& style);

// One flag as a table line, with a trailing newline: event time, severity, category, main
// entity, first reason (cut to fit the width), source permalink (or where the source record
// was read when the platform gives no permalink). The source is never cut: it is what an
// analyst copies to open the post.
std::string table_row(const FlagView& flag, const TableStyle& style);

// `text` cut to at most `max` code points, the last one replaced by "…" when cut, padded
// with spaces to `max` code points. UTF-8 safe; wide (CJK) characters count as one.
std::string fit(std::string_view text, std::size_t max);

// The terminal width of stdout, else $COLUMNS, else 160.
int terminal_width();

}  // namespace vigil::tail
