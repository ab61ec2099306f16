#pragma once

#include <string>
#include <string_view>

#include "services/eval/evaluate.h"
#include "services/eval/metrics.h"

namespace vigil::eval {

// The table of one file or of several together: a title line with the record counts, then per
// row TP, FP, FN, precision and recall; subtype rows are indented under their category.
std::string format_table(const Scoreboard& board, std::string_view title);

// Every false positive and false negative of a file, per category, and every flag whose
// subtype differs from the label: the location, the note, the flags with their rules and
// weights, the scores that stayed below a threshold, and the text (with links from structured
// fields). Empty when there are none.
std::string format_errors(const FileResult& file);

}  // namespace vigil::eval
