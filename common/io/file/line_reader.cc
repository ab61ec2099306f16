#include "common/io/file/line_reader.h"

#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace vigil::io {
namespace {

// Splits a byte stream produced by `fill` into lines.
class BufferedLines : public LineReader {
 public:
  bool next(std::string& line) override {
    line.clear();
    while (true) {
      const auto nl = buffer_.find('\n', pos_);
      if (nl != std::string::npos) {
        line.assign(buffer_, pos_, nl - pos_);
        pos_ = nl + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return true;
      }
      buffer_.erase(0, pos_);
      pos_ = 0;
      if (eof_ || !fill(buffer_)) {
        eof_ = true;
        if (buffer_.empty()) return false;
        line.swap(buffer_);
        buffer_.clear();
        return true;
      }
    }
  }
  Status status() const override { return status_; }

 protected:
  // Appends more bytes; false at the end or on error (which sets status_).
  virtual bool fill(std::string& buffer) = 0;
  Status status_;

 private:
  std::string buffer_;
  std::size_t pos_ = 0;
  bool eof_ = false;
};

// Plain and gzip: zlib reads uncompressed files transparently.
class GzLines final : public BufferedLines {
 public:
  explicit GzLines(gzFile f) : file_(f) {}
  ~GzLines() override { gzclose(file_); }
  std::uint64_t bytes_read() const override { return static_cast<std::uint64_t>(gzoffset(file_)); }

 protected:
  bool fill(std::string& buffer) override {
    char chunk[1 << 16];
    const int n = gzread(file_, chunk, sizeof chunk);
    if (n < 0) {
      int errnum = 0;
      status_ = io_error(std::string("read failed: ") + gzerror(file_, &errnum));
      return false;
    }
    buffer.append(chunk, static_cast<std::size_t>(n));
    return n > 0;
  }

 private:
  gzFile file_;
};

class ZstdLines final : public BufferedLines {
 public:
  ZstdLines(std::FILE* f, std::string path) : file_(f), path_(std::move(path)), dctx_(ZSTD_createDCtx()) {}
  ~ZstdLines() override {
    ZSTD_freeDCtx(dctx_);
    std::fclose(file_);
  }
  std::uint64_t bytes_read() const override { return bytes_read_; }

 protected:
  bool fill(std::string& buffer) override {
    std::string out(ZSTD_DStreamOutSize(), '\0');
    while (true) {
      if (in_pos_ == in_.size()) {
        in_.resize(ZSTD_DStreamInSize());
        const std::size_t n = std::fread(in_.data(), 1, in_.size(), file_);
        in_.resize(n);
        in_pos_ = 0;
        bytes_read_ += n;
        if (n == 0) {
          if (last_ret_ != 0) status_ = io_error(path_ + ": truncated zstd stream");
          return false;
        }
      }
      ZSTD_inBuffer input{in_.data(), in_.size(), in_pos_};
      ZSTD_outBuffer output{out.data(), out.size(), 0};
      last_ret_ = ZSTD_decompressStream(dctx_, &output, &input);
      in_pos_ = input.pos;
      if (ZSTD_isError(last_ret_)) {
        status_ = io_error(path_ + ": " + ZSTD_getErrorName(last_ret_));
        return false;
      }
      if (output.pos > 0) {
        buffer.append(out.data(), output.pos);
        return true;
      }
    }
  }

 private:
  std::FILE* file_;
  std::string path_;
  ZSTD_DCtx* dctx_;
  std::string in_;
  std::size_t in_pos_ = 0;
  std::size_t last_ret_ = 0;
  std::uint64_t bytes_read_ = 0;
};

}  // namespace

Result<std::unique_ptr<LineReader>> open_line_reader(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return io_error(path + ": " + std::strerror(errno));
  unsigned char magic[4] = {0, 0, 0, 0};
  const std::size_t n = std::fread(magic, 1, sizeof magic, f);
  if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) {
    std::rewind(f);
    return std::unique_ptr<LineReader>(std::make_unique<ZstdLines>(f, path));
  }
  std::fclose(f);
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) return io_error(path + ": cannot open");
  gzbuffer(gz, 1 << 17);
  return std::unique_ptr<LineReader>(std::make_unique<GzLines>(gz));
}

}  // namespace vigil::io
