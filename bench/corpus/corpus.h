#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/io/record.h"

namespace vigil::bench {

struct CorpusOptions {
  std::size_t records = 100000;
  std::uint64_t seed = 42;
  double positive_share = 0.1;  // records written to be flagged (data offers, lookalike links)
  std::size_t min_text_bytes = 200;
  std::size_t max_text_bytes = 1700;
};

// Realistic synthetic raw records for all six input formats: Vietnamese posts, comments and
// tips mixing news, commerce, chat and (a controlled share of) data offers and scam links,
// with URLs, phones and IDs sprinkled as people write them. Deterministic for a seed.
// Records carry topic (raw.<platform>), partition 0, increasing offsets and timestamps.
std::vector<io::Record> generate_corpus(const CorpusOptions& options);

}  // namespace vigil::bench
