// Writes the synthetic benchmark corpus as an archive (kcat -J envelope lines) and, for
// kcat -P, as one value per line: the same records for both tools in the tools bench (and
// the load of the end-to-end bench). Corpus records have no keys.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "bench/corpus/corpus.h"
#include "common/io/envelope.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: write_corpus RECORDS ARCHIVE.jsonl [VALUE_LINES.txt]\n";
    return 2;
  }
  vigil::bench::CorpusOptions options;
  options.records = std::strtoull(argv[1], nullptr, 10);
  if (options.records == 0) {
    std::cerr << "write_corpus: RECORDS must be a positive number\n";
    return 2;
  }
  const auto records = vigil::bench::generate_corpus(options);
  std::ofstream archive(argv[2], std::ios::binary);
  std::string line;
  for (const auto& r : records) {
    line.clear();
    vigil::io::append_envelope(r, line);
    line.push_back('\n');
    archive << line;
  }
  if (argc > 3) {
    std::ofstream lines(argv[3], std::ios::binary);
    for (const auto& r : records) {
      // A JSON value never holds a raw newline, so one value per line is exact.
      lines << r.value.value_or("") << '\n';
    }
  }
  std::cout << records.size() << " records\n";
  return archive.good() ? 0 : 1;
}
