#include "services/archive/archive.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdio>
#include <filesystem>

#include "common/io/envelope.h"

namespace vigil::archive {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSuffix = ".jsonl.zst";
constexpr std::string_view kPartialSuffix = ".partial";

bool parse_int(std::string_view s, std::int64_t& out) {
  if (s.empty()) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0;
}

std::string pad(std::int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(v));
  return buf;
}

}  // namespace

std::string archive_file_name(const ArchiveFile& f) {
  return f.topic + "+" + std::to_string(f.partition) + "+" + pad(f.first) + "-" + pad(f.last) + std::string(kSuffix);
}

std::optional<ArchiveFile> parse_archive_file_name(const std::string& name) {
  if (!name.ends_with(kSuffix)) return std::nullopt;
  const std::string_view stem = std::string_view(name).substr(0, name.size() - kSuffix.size());
  const auto plus2 = stem.rfind('+');
  if (plus2 == std::string_view::npos || plus2 == 0) return std::nullopt;
  const auto plus1 = stem.rfind('+', plus2 - 1);
  if (plus1 == std::string_view::npos || plus1 == 0) return std::nullopt;
  const std::string_view range = stem.substr(plus2 + 1);
  const auto dash = range.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  ArchiveFile f;
  std::int64_t partition = 0;
  f.topic = std::string(stem.substr(0, plus1));
  if (!parse_int(stem.substr(plus1 + 1, plus2 - plus1 - 1), partition) || partition > INT32_MAX ||
      !parse_int(range.substr(0, dash), f.first) || !parse_int(range.substr(dash + 1), f.last) || f.last < f.first) {
    return std::nullopt;
  }
  f.partition = static_cast<std::int32_t>(partition);
  return f;
}

Archiver::Archiver(ArchiveOptions options, Clock clock, ArchiveObserver* observer)
    : options_(std::move(options)), clock_(std::move(clock)), observer_(observer) {}

Status Archiver::recover() {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec) return io_error(options_.dir + ": " + ec.message());
  for (const auto& topic_dir : fs::directory_iterator(options_.dir, ec)) {
    if (!topic_dir.is_directory()) continue;
    for (const auto& entry : fs::directory_iterator(topic_dir.path(), ec)) {
      const std::string name = entry.path().filename().string();
      if (name.ends_with(kPartialSuffix)) {
        // Its records were never committed: they will be read again.
        fs::remove(entry.path(), ec);
        if (ec) return io_error(entry.path().string() + ": " + ec.message());
        ++stats_.partials_removed;
        spdlog::warn("removed partial archive file {} left by an earlier crash", entry.path().string());
        continue;
      }
      if (const auto f = parse_archive_file_name(name)) {
        auto& next = next_[{f->topic, f->partition}];
        next = std::max(next, f->last + 1);
      }
    }
  }
  if (ec) return io_error(options_.dir + ": " + ec.message());
  return Status::ok();
}

Status Archiver::process(io::Source& source, std::vector<io::Record>& batch) {
  const std::uint64_t skipped_before = stats_.already_archived;
  for (const auto& r : batch) {
    const Key key{r.topic, r.partition};
    if (const auto it = next_.find(key); it != next_.end() && r.offset < it->second) {
      ++stats_.already_archived;
      continue;
    }
    auto open = open_.find(key);
    if (open != open_.end() && r.offset <= open->second.name.last) {
      ++stats_.already_archived;  // re-delivered after a seek: already in the open file
      continue;
    }
    if (open == open_.end()) {
      const std::string dir = options_.dir + "/" + r.topic;
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec) return io_error(dir + ": " + ec.message());
      OpenFile file;
      file.name = {r.topic, r.partition, r.offset, r.offset};
      file.opened = clock_();
      auto writer = io::ZstdFileWriter::create(dir + "/." + r.topic + "+" + std::to_string(r.partition) + "+" +
                                                   pad(r.offset) + std::string(kSuffix) + std::string(kPartialSuffix),
                                               options_.zstd_level);
      if (!writer.is_ok()) return writer.status();
      file.writer = std::move(writer.value());
      open = open_.emplace(key, std::move(file)).first;
    }
    OpenFile& file = open->second;
    line_.clear();
    io::append_envelope(r, line_);
    line_.push_back('\n');
    VIGIL_RETURN_IF_ERROR(file.writer->append(line_));
    file.name.last = r.offset;
    ++file.records;
    ++stats_.records;
    if ((options_.max_records > 0 && file.records >= options_.max_records) ||
        file.writer->bytes_out() >= options_.max_bytes) {
      VIGIL_RETURN_IF_ERROR(close_file(source, key));
    }
  }
  if (observer_ != nullptr && stats_.already_archived > skipped_before) {
    observer_->on_skipped(stats_.already_archived - skipped_before);
  }
  return close_due(source);
}

Status Archiver::close_due(io::Source& source) {
  const auto now = clock_();
  std::vector<Key> due;
  for (const auto& [key, file] : open_) {
    if (now - file.opened >= options_.max_age) due.push_back(key);
  }
  for (const auto& key : due) VIGIL_RETURN_IF_ERROR(close_file(source, key));
  return Status::ok();
}

Status Archiver::close_file(io::Source& source, const Key& key) {
  auto it = open_.find(key);
  if (it == open_.end()) return Status::ok();
  OpenFile file = std::move(it->second);
  open_.erase(it);
  VIGIL_RETURN_IF_ERROR(file.writer->finish());
  const std::string dir = options_.dir + "/" + key.first;
  const std::string final_path = dir + "/" + archive_file_name(file.name);
  std::error_code ec;
  fs::rename(file.writer->path(), final_path, ec);
  if (ec) return io_error("rename " + file.writer->path() + " -> " + final_path + ": " + ec.message());
  VIGIL_RETURN_IF_ERROR(io::fsync_directory(dir));
  ++stats_.files;
  stats_.bytes_in += file.writer->bytes_in();
  stats_.bytes_out += file.writer->bytes_out();
  next_[key] = file.name.last + 1;
  // Only now is the range safe on disk; if this commit is lost, recover() still knows.
  const Status committed = source.commit({{key.first, key.second, file.name.last + 1}});
  if (!committed.is_ok()) {
    spdlog::warn("archived {} but could not commit its offset ({}); a restart skips it by file name", final_path,
                 committed.message());
  }
  if (observer_ != nullptr) {
    observer_->on_file_closed(file.name, file.records, file.writer->bytes_out(), committed.is_ok());
  }
  spdlog::info("closed {} ({} records, {} bytes)", final_path, file.records, file.writer->bytes_out());
  return Status::ok();
}

void Archiver::on_revoke(io::Source& source, const std::vector<io::TopicPartitionOffset>& partitions) {
  for (const auto& tp : partitions) {
    if (const Status st = close_file(source, {tp.topic, tp.partition}); !st.is_ok()) {
      // Not committed: the partition's new owner reads the records again, nothing is lost.
      spdlog::error("closing the archive of {}/{} on revoke failed: {}", tp.topic, tp.partition, st.message());
    }
  }
}

Status Archiver::close_all(io::Source& source) {
  std::vector<Key> keys;
  for (const auto& [key, file] : open_) keys.push_back(key);
  for (const auto& key : keys) VIGIL_RETURN_IF_ERROR(close_file(source, key));
  return Status::ok();
}

Status Archiver::run(io::Source& source, const std::atomic<bool>& stop) {
  std::vector<io::Record> batch;
  while (!stop.load()) {
    batch.clear();
    VIGIL_RETURN_IF_ERROR(source.poll(batch, options_.batch, std::chrono::milliseconds(500)));
    if (observer_ != nullptr) observer_->on_round(source.ready());
    VIGIL_RETURN_IF_ERROR(process(source, batch));
    if (source.at_end()) break;
  }
  return close_all(source);
}

}  // namespace vigil::archive
