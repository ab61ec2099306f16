// The tools' small parsers: time arguments (--from, --since, --reset-to) and archive file names
// (which decide where vigil-archive resumes). Never a crash; an accepted file name prints back
// to a name that parses to the same thing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/cli/cli.h"
#include "services/archive/archive.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)vigil::cli::parse_time(text, 1'711'929'600'000);
  if (const auto f = vigil::archive::parse_archive_file_name(text)) {
    const auto back = vigil::archive::parse_archive_file_name(vigil::archive::archive_file_name(*f));
    if (!back || back->topic != f->topic || back->partition != f->partition || back->first != f->first ||
        back->last != f->last) {
      __builtin_trap();
    }
  }
  return 0;
}
