// fsx: random operations against a file and an in-memory model (see fsx.h).
#include "qa/fs/fsx.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <deque>
#include <random>

namespace nacre::qa {

namespace {

enum Op { kRead, kWrite, kTruncate, kPunch, kFallocKeep, kFallocGrow, kCopy, kReopen };
const char* kOpNames[] = {"read", "write", "truncate", "punch", "falloc-keep", "falloc-grow", "copy", "reopen"};

class Fsx {
 public:
  Fsx(const std::string& path, const FsxOptions& o) : path_(path), o_(o), rng_(o.seed) {}

  FsxResult Run() {
    fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd_ < 0) return Fail("open: " + std::string(strerror(errno)));
    for (r_.ops_done = 0; r_.ops_done < o_.ops && r_.first_error.empty(); ++r_.ops_done) {
      Step();
      if (r_.first_error.empty() && (r_.ops_done + 1) % o_.check_every == 0) CheckAll("periodic");
      // Progress for long runs (stderr is not captured by the test runner).
      if ((r_.ops_done + 1) % 10000 == 0) std::fprintf(stderr, "fsx: %llu ops\n", (unsigned long long)(r_.ops_done + 1));
    }
    if (r_.first_error.empty()) CheckAll("final");
    if (fd_ >= 0) close(fd_);
    return r_;
  }

 private:
  uint64_t Rand(uint64_t n) { return n == 0 ? 0 : std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }

  FsxResult Fail(const std::string& why) {
    if (r_.first_error.empty()) {
      r_.first_error = "op " + std::to_string(r_.ops_done) + ": " + why;
      r_.last_ops.assign(history_.begin(), history_.end());
    }
    return r_;
  }

  // Remembers the op being done (the last kHistory are reported on failure:
  // a mismatch is usually caused by an earlier op, not the one noticing it).
  void Note(Op op, uint64_t off, uint64_t len, const std::string& extra = "") {
    static constexpr size_t kHistory = 12;
    if (history_.size() == kHistory) history_.pop_front();
    history_.push_back("op " + std::to_string(r_.ops_done) + " " + kOpNames[op] + " off " + std::to_string(off) +
                       " len " + std::to_string(len) + (extra.empty() ? "" : " " + extra) + " (model size " +
                       std::to_string(model_.size()) + " before)");
  }
  void Mismatch(const std::string& what, uint64_t off) {
    ++r_.mismatches;
    Fail(what + " mismatch at offset " + std::to_string(off));
  }

  // An offset/length pair, biased to object boundaries now and then.
  void Range(uint64_t limit, uint64_t* off, uint64_t* len) {
    if (Rand(8) == 0 && limit > (4u << 20)) {
      uint64_t b = (Rand(limit / (4u << 20)) + 1) * (4u << 20);
      *off = b - std::min<uint64_t>(b, Rand(4096));
    } else {
      *off = Rand(limit);
    }
    *len = Rand(o_.max_io) + 1;
  }

  void Step() {
    uint64_t dice = Rand(100);
    Op op = dice < 30 ? kRead : dice < 60 ? kWrite : dice < 68 ? kTruncate : dice < 76 ? kPunch
          : dice < 82 ? kFallocKeep : dice < 87 ? kFallocGrow : dice < 97 ? kCopy : kReopen;
    ++r_.counts[op];
    uint64_t off, len;
    switch (op) {
      case kRead: {
        Range(std::max<uint64_t>(model_.size(), 1) + 4096, &off, &len);
        Note(op, off, len);
        std::string buf(len, '\0');
        ssize_t n = pread(fd_, buf.data(), len, static_cast<off_t>(off));
        if (n < 0) return (void)Fail("pread: " + std::string(strerror(errno)));
        uint64_t want = off >= model_.size() ? 0 : std::min<uint64_t>(len, model_.size() - off);
        if (static_cast<uint64_t>(n) != want) return Mismatch("read length " + std::to_string(n) + " vs " +
                                                              std::to_string(want), off);
        if (want > 0 && buf.compare(0, want, model_, off, want) != 0) Mismatch("read data", off);
        return;
      }
      case kWrite: {
        Range(o_.max_size, &off, &len);
        len = std::min(len, o_.max_size - off);
        Note(op, off, len);
        std::string data(len, '\0');
        uint64_t tag = r_.ops_done * 131 + 7;
        for (uint64_t i = 0; i < len; ++i) data[i] = static_cast<char>((tag + i * 31) >> (i % 3));
        if (pwrite(fd_, data.data(), len, static_cast<off_t>(off)) != static_cast<ssize_t>(len))
          return (void)Fail("pwrite: " + std::string(strerror(errno)));
        // A zero-length write (off == max_size, from the boundary bias in
        // Range) changes nothing, not even the size (POSIX write(2)); it is
        // still issued, as an edge case for the mount.
        if (len == 0) return;
        if (model_.size() < off + len) model_.resize(off + len, '\0');
        model_.replace(off, len, data);
        return;
      }
      case kTruncate: {
        uint64_t size = Rand(8) == 0 ? 0 : Rand(o_.max_size);
        Note(op, size, 0);
        if (ftruncate(fd_, static_cast<off_t>(size)) != 0) return (void)Fail("ftruncate: " + std::string(strerror(errno)));
        model_.resize(size, '\0');
        return;
      }
      case kPunch: {
        Range(std::max<uint64_t>(model_.size(), 1), &off, &len);
        if (Rand(4) == 0) len = Rand(9u << 20) + 1;  // sometimes whole objects
        Note(op, off, len);
        if (fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(off),
                      static_cast<off_t>(len)) != 0)
          return (void)Fail("punch hole: " + std::string(strerror(errno)));
        if (off < model_.size()) {
          uint64_t n = std::min<uint64_t>(len, model_.size() - off);
          std::fill_n(model_.begin() + static_cast<ptrdiff_t>(off), n, '\0');
        }
        return;
      }
      case kFallocKeep:
      case kFallocGrow: {
        Range(o_.max_size, &off, &len);
        len = std::min(len, o_.max_size - off);
        Note(op, off, len);
        if (len == 0) return;
        int mode = op == kFallocKeep ? FALLOC_FL_KEEP_SIZE : 0;
        if (fallocate(fd_, mode, static_cast<off_t>(off), static_cast<off_t>(len)) != 0)
          return (void)Fail("fallocate: " + std::string(strerror(errno)));
        if (op == kFallocGrow && model_.size() < off + len) model_.resize(off + len, '\0');
        return;
      }
      case kCopy: {
        if (model_.empty()) return;
        uint64_t src = Rand(model_.size());
        len = std::min<uint64_t>(Rand(o_.max_io) + 1, model_.size() - src);
        uint64_t dst = Rand(o_.max_size - len);
        Note(op, src, len, "to " + std::to_string(dst));
        // Same-file copies must not overlap.
        if (dst < src + len && src < dst + len) return;
        loff_t in = static_cast<loff_t>(src), out = static_cast<loff_t>(dst);
        uint64_t done = 0;
        while (done < len) {
          ssize_t n = copy_file_range(fd_, &in, fd_, &out, len - done, 0);
          if (n < 0) return (void)Fail("copy_file_range: " + std::string(strerror(errno)));
          if (n == 0) break;
          done += static_cast<uint64_t>(n);
        }
        if (done != len) return Mismatch("copy length " + std::to_string(done), src);
        std::string piece = model_.substr(src, len);
        if (model_.size() < dst + len) model_.resize(dst + len, '\0');
        model_.replace(dst, len, piece);
        return;
      }
      case kReopen: {
        Note(op, 0, 0);
        close(fd_);
        fd_ = open(path_.c_str(), O_RDWR);
        if (fd_ < 0) return (void)Fail("reopen: " + std::string(strerror(errno)));
        struct stat st;
        if (fstat(fd_, &st) != 0) return (void)Fail("fstat: " + std::string(strerror(errno)));
        if (static_cast<uint64_t>(st.st_size) != model_.size())
          return Mismatch("size " + std::to_string(st.st_size) + " vs " + std::to_string(model_.size()), 0);
        return;
      }
    }
  }

  void CheckAll(const char* when) {
    struct stat st;
    if (fstat(fd_, &st) != 0) return (void)Fail("fstat: " + std::string(strerror(errno)));
    if (static_cast<uint64_t>(st.st_size) != model_.size())
      return Mismatch(std::string(when) + " size " + std::to_string(st.st_size) + " vs " +
                          std::to_string(model_.size()), 0);
    std::string buf(model_.size(), '\0');
    size_t got = 0;
    while (got < buf.size()) {
      ssize_t n = pread(fd_, buf.data() + got, buf.size() - got, static_cast<off_t>(got));
      if (n <= 0) return (void)Fail(std::string(when) + " read: short");
      got += static_cast<size_t>(n);
    }
    if (buf != model_) {
      auto diff = std::mismatch(buf.begin(), buf.end(), model_.begin());
      Mismatch(std::string(when) + " data", static_cast<uint64_t>(diff.first - buf.begin()));
    }
  }

  std::string path_;
  FsxOptions o_;
  std::mt19937_64 rng_;
  std::string model_;
  std::deque<std::string> history_;
  int fd_ = -1;
  FsxResult r_;
};

}  // namespace

FsxResult RunFsx(const std::string& path, const FsxOptions& opts) { return Fsx(path, opts).Run(); }

uint64_t SeedFromEnv() {
  if (const char* s = getenv("NACRE_SEED")) return std::strtoull(s, nullptr, 0);
  return std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32);
}

std::string FsxOpName(int i) { return kOpNames[i]; }

}  // namespace nacre::qa
