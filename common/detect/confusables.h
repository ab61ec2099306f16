#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"

struct USpoofChecker;  // ICU, <unicode/uspoof.h>

namespace vigil::detect {

// What the scripts of one host label say about it.
struct LabelScripts {
  // The label mixes scripts in a way UTS #39 calls suspicious: beyond the "highly restrictive"
  // level (Latin + Cyrillic, Latin + Greek...) or a mixed-script confusable. Single-script
  // labels, Vietnamese Latin with diacritics included ("thương-mại"), are not mixed.
  bool mixed = false;
  // ICU names of the scripts of the label's non-ASCII letters ("Cyrillic", "Greek", "Latin"),
  // in order of first appearance; Common and Inherited (digits, '-', combining marks) left out.
  std::vector<std::string> non_ascii_scripts;
};

// UTS #39 confusable detection through ICU's spoof checker, for host labels (UTF-8, Unicode
// form: decode punycode first). One USpoofChecker for the process, created on first use.
// Thread-safety: the checks are const and ICU documents them as safe to call concurrently on
// one checker; shared() is safe to call from any thread.
class Confusables {
 public:
  // The process-wide instance; an error when ICU cannot open its confusables data.
  [[nodiscard]] static Result<const Confusables*> shared();

  // The UTS #39 skeleton (confusables mapping over NFD): "vietcombаnk" with a Cyrillic 'а'
  // and "vietcombank" have the same skeleton. Skeletons are for comparison only (an 'm' maps
  // to "rn"); compare skeletons with skeletons.
  [[nodiscard]] Result<std::string> skeleton(std::string_view label) const;

  [[nodiscard]] Result<LabelScripts> scripts(std::string_view label) const;

  ~Confusables();
  Confusables(const Confusables&) = delete;
  Confusables& operator=(const Confusables&) = delete;

 private:
  struct CheckerDeleter {
    void operator()(USpoofChecker* checker) const;
  };
  Confusables() = default;
  std::unique_ptr<USpoofChecker, CheckerDeleter> checker_;
};

// A UTF-8 string as code points (invalid bytes become U+FFFD), for code-point edit distances.
std::u32string utf8_to_u32(std::string_view s);

}  // namespace vigil::detect
