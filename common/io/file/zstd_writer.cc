#include "common/io/file/zstd_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

namespace vigil::io {
namespace {

// Input is gathered to about one zstd block before compressing: one call per record would
// spend more time in call overhead than in compression for short records.
constexpr std::size_t kGather = std::size_t{128} * 1024;

ZSTD_CCtx* cctx_of(void* p) {
  return static_cast<ZSTD_CCtx*>(p);
}

}  // namespace

ZstdFileWriter::ZstdFileWriter(std::string path, int fd, void* cctx)
    : path_(std::move(path)), fd_(fd), cctx_(cctx), out_(ZSTD_CStreamOutSize(), '\0') {
  pending_.reserve(kGather * 2);
}

ZstdFileWriter::~ZstdFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  ZSTD_freeCCtx(cctx_of(cctx_));
}

Result<std::unique_ptr<ZstdFileWriter>> ZstdFileWriter::create(const std::string& path, int level) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(path + ": " + std::strerror(errno));
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  // Compression in zstd's own worker thread, overlapping with the caller producing the next
  // bytes (as `kcat | zstd` overlaps in two processes). Ignored by a libzstd built without
  // threads, which then compresses inline.
  (void)ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, 1);
  return std::unique_ptr<ZstdFileWriter>(new ZstdFileWriter(path, fd, cctx));
}

Status ZstdFileWriter::append(std::string_view bytes) {
  pending_.append(bytes);
  bytes_in_ += bytes.size();
  if (pending_.size() >= kGather) return drain(false);
  return Status::ok();
}

Status ZstdFileWriter::drain(bool end) {
  ZSTD_inBuffer in{pending_.data(), pending_.size(), 0};
  while (true) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    const std::size_t left = ZSTD_compressStream2(cctx_of(cctx_), &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(left)) return io_error(path_ + ": zstd: " + ZSTD_getErrorName(left));
    VIGIL_RETURN_IF_ERROR(write_all(out_.data(), out.pos));
    if (end ? left == 0 : in.pos == in.size) break;
  }
  pending_.clear();
  return Status::ok();
}

Status ZstdFileWriter::write_all(const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(path_ + ": write: " + std::strerror(errno));
    }
    data += n;
    size -= static_cast<std::size_t>(n);
    bytes_out_ += static_cast<std::uint64_t>(n);
  }
  return Status::ok();
}

Status ZstdFileWriter::finish() {
  VIGIL_RETURN_IF_ERROR(drain(true));
  if (::fsync(fd_) != 0) return io_error(path_ + ": fsync: " + std::strerror(errno));
  if (::close(fd_) != 0) {
    fd_ = -1;
    return io_error(path_ + ": close: " + std::strerror(errno));
  }
  fd_ = -1;
  return Status::ok();
}

Status fsync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error(dir + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return io_error(dir + ": fsync: " + std::strerror(err));
  return Status::ok();
}

}  // namespace vigil::io
