#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/core/status.h"

namespace vigil::io {

// Writes one zstd-compressed file for an archive that must survive a crash: bytes go to
// `path` as they are compressed; finish() ends the zstd frame and fsyncs, so a file that
// finished is complete on disk and one that did not is detectably truncated.
// Lifecycle: create(), append()*, finish() or drop the object (the file is left as it is;
// the caller removes it). One thread.
class ZstdFileWriter {
 public:
  static Result<std::unique_ptr<ZstdFileWriter>> create(const std::string& path, int level);
  ~ZstdFileWriter();
  ZstdFileWriter(const ZstdFileWriter&) = delete;
  ZstdFileWriter& operator=(const ZstdFileWriter&) = delete;

  Status append(std::string_view bytes);
  Status finish();

  std::uint64_t bytes_in() const { return bytes_in_; }
  // Compressed bytes handed to the file so far (lags bytes_in by zstd's window).
  std::uint64_t bytes_out() const { return bytes_out_; }
  const std::string& path() const { return path_; }

 private:
  ZstdFileWriter(std::string path, int fd, void* cctx);
  Status drain(bool end);
  Status write_all(const char* data, std::size_t size);

  std::string path_;
  int fd_;
  void* cctx_;  // ZSTD_CCtx, kept opaque so zstd.h stays private
  std::string out_;
  std::string pending_;
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
};

// fsync()s a directory so a rename into it is durable.
Status fsync_directory(const std::string& dir);

}  // namespace vigil::io
