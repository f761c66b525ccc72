// meta_bench: metadata operations per second on a directory of any
// filesystem (local disk, a FUSE passthrough, a Nacre mount), so the three
// can be compared in one run.
//
//   meta_bench DIR [--files N] [--threads T] [--dirs D]
//
// Phases, each timed on its own: create N empty files (open O_CREAT|O_EXCL,
// close), stat each, unlink each; first all in one directory, then spread
// over D subdirectories. T threads share the work (T ops in flight). Prints a
// table and one JSON line; exits non-zero if any operation fails (a wrong
// result is not a speed).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string dir;
  int files = 10000;
  int threads = 16;
  int dirs = 100;
};

std::atomic<int> g_failures{0};

void Fail(const char* what, const std::string& path) {
  if (g_failures.fetch_add(1) < 5) std::fprintf(stderr, "meta_bench: %s %s: %s\n", what, path.c_str(), std::strerror(errno));
}

// Runs op(i) for i in [0, n) on `threads` threads; returns ops per second.
double Run(int n, int threads, const std::function<void(int)>& op) {
  std::atomic<int> next{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) op(i);
    });
  for (auto& t : ts) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return secs > 0 ? n / secs : 0;
}

struct Rates {
  double create = 0, stat = 0, unlink = 0;
};

Rates Phase(const Options& o, const std::function<std::string(int)>& path_of) {
  Rates r;
  r.create = Run(o.files, o.threads, [&](int i) {
    std::string p = path_of(i);
    int fd = open(p.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd < 0) return Fail("create", p);
    close(fd);
  });
  r.stat = Run(o.files, o.threads, [&](int i) {
    std::string p = path_of(i);
    struct stat st {};
    if (stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != 0) Fail("stat", p);
  });
  r.unlink = Run(o.files, o.threads, [&](int i) {
    std::string p = path_of(i);
    if (unlink(p.c_str()) != 0) Fail("unlink", p);
  });
  return r;
}

bool ParseInt(const char* s, int* out) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (!s[0] || *end || v <= 0 || v > 10000000) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    int* target = a == "--files" ? &o.files : a == "--threads" ? &o.threads : a == "--dirs" ? &o.dirs : nullptr;
    if (target) {
      if (i + 1 >= argc || !ParseInt(argv[++i], target)) {
        std::fprintf(stderr, "meta_bench: %s needs a positive number\n", a.c_str());
        return 2;
      }
    } else if (o.dir.empty() && a[0] != '-') {
      o.dir = a;
    } else {
      std::fprintf(stderr, "usage: meta_bench DIR [--files N] [--threads T] [--dirs D]\n");
      return 2;
    }
  }
  if (o.dir.empty()) {
    std::fprintf(stderr, "usage: meta_bench DIR [--files N] [--threads T] [--dirs D]\n");
    return 2;
  }
  std::string base = o.dir + "/meta_bench." + std::to_string(getpid());
  std::string one = base + "/one";
  if (mkdir(base.c_str(), 0755) != 0 || mkdir(one.c_str(), 0755) != 0) {
    std::fprintf(stderr, "meta_bench: mkdir %s: %s\n", base.c_str(), std::strerror(errno));
    return 1;
  }
  Rates single = Phase(o, [&](int i) { return one + "/f" + std::to_string(i); });
  for (int d = 0; d < o.dirs; ++d) {
    std::string p = base + "/d" + std::to_string(d);
    if (mkdir(p.c_str(), 0755) != 0) Fail("mkdir", p);
  }
  Rates spread = Phase(o, [&](int i) { return base + "/d" + std::to_string(i % o.dirs) + "/f" + std::to_string(i); });
  for (int d = 0; d < o.dirs; ++d) rmdir((base + "/d" + std::to_string(d)).c_str());
  rmdir(one.c_str());
  rmdir(base.c_str());

  std::printf("%-22s %10s %10s %10s\n", "files/s", "create", "stat", "unlink");
  std::printf("%-22s %10.0f %10.0f %10.0f\n", "one directory", single.create, single.stat, single.unlink);
  std::printf("%-22s %10.0f %10.0f %10.0f\n", ("over " + std::to_string(o.dirs) + " dirs").c_str(), spread.create,
              spread.stat, spread.unlink);
  std::printf(
      "{\"bench\":\"meta\",\"files\":%d,\"threads\":%d,\"one_dir\":{\"create\":%.0f,\"stat\":%.0f,\"unlink\":%.0f},"
      "\"spread\":{\"create\":%.0f,\"stat\":%.0f,\"unlink\":%.0f},\"failures\":%d}\n",
      o.files, o.threads, single.create, single.stat, single.unlink, spread.create, spread.stat, spread.unlink,
      g_failures.load());
  return g_failures.load() == 0 ? 0 : 1;
}
