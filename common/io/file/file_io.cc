#include "common/io/file/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "common/io/envelope.h"
#include "common/io/file/line_reader.h"

namespace vigil::io {
namespace {

class FileSource final : public Source {
 public:
  explicit FileSource(std::vector<std::string> paths) : paths_(std::move(paths)) {}

  Status open_next() {
    reader_.reset();
    while (next_path_ < paths_.size()) {
      current_path_ = paths_[next_path_++];
      line_number_ = 0;
      auto r = open_line_reader(current_path_);
      if (!r.is_ok()) return r.status();
      reader_ = std::move(r.value());
      return Status::ok();
    }
    return Status::ok();
  }

  Status poll(std::vector<Record>& out, std::size_t max, std::chrono::milliseconds) override {
    std::size_t added = 0;
    while (added < max && reader_ != nullptr) {
      if (!reader_->next(line_)) {
        VIGIL_RETURN_IF_ERROR(reader_->status());
        VIGIL_RETURN_IF_ERROR(open_next());
        continue;
      }
      ++line_number_;
      if (line_.find_first_not_of(" \t\r") == std::string::npos) continue;
      Record& r = out.emplace_back();
      if (const Status st = decoder_.decode(line_, r); !st.is_ok()) {
        r = Record{};
        r.topic = "file:" + current_path_;
        r.partition = 0;
        r.offset = static_cast<std::int64_t>(line_number_);
        r.value = line_;
        r.source_error = st.message();
      }
      ++added;
    }
    return Status::ok();
  }

  bool at_end() const override { return reader_ == nullptr; }
  Status commit(const std::vector<TopicPartitionOffset>&) override { return Status::ok(); }
  Status seek(const std::vector<TopicPartitionOffset>&) override {
    return Status(Code::kInternal, "archive sources cannot seek back; rerun the archive");
  }

 private:
  std::vector<std::string> paths_;
  std::size_t next_path_ = 0;
  std::string current_path_;
  std::size_t line_number_ = 0;
  std::unique_ptr<LineReader> reader_;
  EnvelopeDecoder decoder_;
  std::string line_;
};

class OutputFile {
 public:
  Status open(const std::string& path) {
    path_ = path;
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) return io_error(path + ": " + std::strerror(errno));
    return Status::ok();
  }
  ~OutputFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  Status write(const std::string& line) {
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fputc('\n', file_) == EOF) {
      return io_error(path_ + ": write failed: " + std::strerror(errno));
    }
    return Status::ok();
  }
  Status sync() {
    if (std::fflush(file_) != 0 || ::fsync(fileno(file_)) != 0) return io_error(path_ + ": " + std::strerror(errno));
    return Status::ok();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

class FileSink final : public Sink {
 public:
  explicit FileSink(FileSinkOptions options) : options_(std::move(options)) {}

  Status open() {
    VIGIL_RETURN_IF_ERROR(main_.open(options_.path));
    if (!options_.dlq_path.empty()) VIGIL_RETURN_IF_ERROR(dlq_.open(options_.dlq_path));
    return Status::ok();
  }

  Status begin() override { return Status::ok(); }

  Status send(const Record& record) override {
    Record r = record;
    r.partition = 0;
    r.offset = next_offset_[r.topic]++;
    line_.clear();
    append_envelope(r, line_);
    const bool to_dlq = !options_.dlq_path.empty() && r.topic == options_.dlq_topic;
    return (to_dlq ? dlq_ : main_).write(line_);
  }

  Status commit(Source& source, const std::vector<TopicPartitionOffset>& next) override {
    VIGIL_RETURN_IF_ERROR(main_.sync());
    if (!options_.dlq_path.empty()) VIGIL_RETURN_IF_ERROR(dlq_.sync());
    return source.commit(next);
  }

  // Files cannot take back lines; an aborted offline run is rerun from the start.
  Status abort() override { return Status::ok(); }

 private:
  FileSinkOptions options_;
  OutputFile main_;
  OutputFile dlq_;
  std::map<std::string, std::int64_t> next_offset_;
  std::string line_;
};

}  // namespace

Result<std::unique_ptr<Source>> open_file_source(const std::vector<std::string>& paths) {
  if (paths.empty()) return invalid_argument("no input archive given");
  for (const auto& p : paths) {
    if (::access(p.c_str(), R_OK) != 0) return io_error(p + ": " + std::strerror(errno));
  }
  auto source = std::make_unique<FileSource>(paths);
  VIGIL_RETURN_IF_ERROR(source->open_next());
  return std::unique_ptr<Source>(std::move(source));
}

Result<std::unique_ptr<Sink>> open_file_sink(const FileSinkOptions& options) {
  auto sink = std::make_unique<FileSink>(options);
  VIGIL_RETURN_IF_ERROR(sink->open());
  return std::unique_ptr<Sink>(std::move(sink));
}

}  // namespace vigil::io
