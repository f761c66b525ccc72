// Faults under a mounted filesystem, checked against a model of what the
// application was told succeeded:
//  - kill -9 of the active MDS while two mounts (two nacre-fuse processes)
//    create, write, rename, unlink and mkdir thousands of names: the standby
//    takes over, the clients go on without remounting, and afterwards every
//    acknowledged operation is visible from both mounts and from a fresh
//    one, and nothing else is;
//  - kill -9 of an OSD while files are written and closed: every file whose
//    close returned 0 reads back exactly.
// Each worker owns one directory and runs its operations one after another,
// so its model is exact; an operation that returned an error is uncertain
// (its name may or may not exist) and is counted, and the test requires
// there to be none: a client must ride out a takeover, not fail.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "common/wait_for.h"
#include "qa/fs/fs_test_util.h"

using namespace nacre::qa;

namespace {

constexpr const char* kDir = "<dir>";  // model value of a directory

struct Worker {
  std::string dir;                          // absolute, on its mount
  std::map<std::string, std::string> model;  // name -> contents, or kDir
  std::set<std::string> uncertain;          // an op on it returned an error
  int errors = 0;
  std::string first_error;
};

void Note(Worker& w, const std::string& name, const char* what) {
  w.uncertain.insert(name);
  if (w.errors++ == 0) w.first_error = std::string(what) + " " + name + ": " + strerror(errno);
}

bool WriteWhole(const std::string& path, const std::string& data, int flags) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | flags, 0644);
  if (fd < 0) return false;
  bool ok = write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  int saved = errno;
  if (close(fd) != 0) return false;
  errno = saved;
  return ok;
}

// One metadata operation chosen by i; updates the model only on success.
void Step(Worker& w, int i, std::mt19937_64& rng) {
  std::vector<std::string> files;
  for (const auto& [n, v] : w.model)
    if (v != kDir && !w.uncertain.count(n)) files.push_back(n);
  int op = i % 5;
  if ((op == 2 || op == 3) && files.empty()) op = 0;
  if (op == 0 || op == 1) {
    std::string name = "f" + std::to_string(i);
    std::string data = w.dir + "/" + name + " " + std::to_string(rng() % 100000) + std::string(rng() % 3000, 'x');
    if (WriteWhole(w.dir + "/" + name, data, O_EXCL)) w.model[name] = data;
    else Note(w, name, "create");
  } else if (op == 2) {
    std::string from = files[rng() % files.size()];
    std::string to = "r" + std::to_string(i);
    if (rename((w.dir + "/" + from).c_str(), (w.dir + "/" + to).c_str()) == 0) {
      w.model[to] = w.model[from];
      w.model.erase(from);
    } else {
      Note(w, from, "rename");
      Note(w, to, "rename");
    }
  } else if (op == 3) {
    std::string victim = files[rng() % files.size()];
    if (unlink((w.dir + "/" + victim).c_str()) == 0) w.model.erase(victim);
    else Note(w, victim, "unlink");
  } else {
    std::string name = "d" + std::to_string(i);
    if (mkdir((w.dir + "/" + name).c_str(), 0755) == 0) w.model[name] = kDir;
    else Note(w, name, "mkdir");
  }
}

// Compares a directory (as seen under `root`, the same path on another
// mount) with the worker's model; returns the differences.
std::vector<std::string> Check(const Worker& w, const std::string& dir) {
  std::vector<std::string> bad;
  std::set<std::string> seen;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") seen.insert(n);
    }
    closedir(d);
  } else {
    bad.push_back("cannot list " + dir);
    return bad;
  }
  for (const auto& [name, value] : w.model) {
    if (w.uncertain.count(name)) continue;
    if (!seen.count(name)) {
      bad.push_back("missing " + dir + "/" + name);
      continue;
    }
    struct stat st {};
    std::string path = dir + "/" + name;
    if (value == kDir) {
      if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) bad.push_back("not a directory: " + path);
    } else if (ReadFile(path) != value) {
      bad.push_back("wrong contents: " + path);
    }
  }
  for (const auto& n : seen)
    if (!w.model.count(n) && !w.uncertain.count(n)) bad.push_back("unexpected " + dir + "/" + n);
  return bad;
}

std::string Rel(const std::string& path, const std::string& mnt) { return path.substr(mnt.size()); }

}  // namespace

TEST_CASE("fault: kill -9 of the active MDS under two clients loses no acknowledged operation") {
  FsTestEnv env;
  // A short grace, so the takeover comes within seconds.
  nacre::Status s = env.Start("mds beacon grace = 4\n");
  INFO(s.ToString());
  REQUIRE(s.ok());
  auto m0 = env.Mount();
  auto m1 = env.Mount();
  REQUIRE(m0.ok());
  REQUIRE(m1.ok());
  REQUIRE(env.cluster().StartMds(1).ok());
  REQUIRE(nacre::WaitFor(
      [&] {
        ProcResult r = env.cluster().Cli("fs status --format json");
        return r.exit_code == 0 && r.out.find("standby") != std::string::npos;
      },
      std::chrono::seconds(120)));

  const uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::printf("fault_model_test: seed %llu\n", static_cast<unsigned long long>(seed));
  const int kOpsPerWorker = 700;
  std::vector<Worker> workers(4);
  for (size_t t = 0; t < workers.size(); ++t) {
    const std::string& mnt = t % 2 ? *m1 : *m0;
    workers[t].dir = mnt + "/w" + std::to_string(t);
    REQUIRE(mkdir(workers[t].dir.c_str(), 0755) == 0);
  }
  std::atomic<int> done_ops{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < workers.size(); ++t)
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + t);
      for (int i = 0; i < kOpsPerWorker; ++i) {
        Step(workers[t], i, rng);
        done_ops.fetch_add(1);
      }
    });
  // Kill the active MDS a third of the way in, while all four are busy.
  const bool reached = nacre::WaitFor([&] { return done_ops.load() >= kOpsPerWorker * 4 / 3; },
                                      std::chrono::seconds(600));
  env.cluster().KillMds(0);
  for (auto& t : threads) t.join();
  REQUIRE(reached);

  int errors = 0;
  for (const auto& w : workers) {
    errors += w.errors;
    if (w.errors) UNSCOPED_INFO(w.dir << ": " << w.errors << " errors, first: " << w.first_error);
  }
  CHECK(errors == 0);
  // Every acknowledged operation is seen from both mounts and a fresh one.
  auto m2 = env.Mount();
  REQUIRE(m2.ok());
  size_t names = 0;
  for (const auto& w : workers) {
    names += w.model.size();
    const std::string& own = w.dir.rfind(*m0, 0) == 0 ? *m0 : *m1;
    for (const std::string& mnt : {*m0, *m1, *m2}) {
      auto bad = Check(w, mnt + Rel(w.dir, own));
      for (size_t i = 0; i < bad.size() && i < 5; ++i) UNSCOPED_INFO(bad[i]);
      CHECK(bad.empty());
    }
  }
  CHECK(names > 1000);
}

TEST_CASE("fault: kill -9 of an OSD while files are written loses no closed file") {
  FsTestEnv env;
  nacre::Status s = env.Start();
  INFO(s.ToString());
  REQUIRE(s.ok());
  auto mnt = env.Mount();
  REQUIRE(mnt.ok());
  const uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  std::map<std::string, std::string> written;  // closed with 0
  int errors = 0;
  auto write_some = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      std::string path = *mnt + "/file" + std::to_string(i);
      // 0 to 6 MiB: across object boundaries (4 MiB objects).
      std::string data(rng() % (6 << 20), '\0');
      for (size_t j = 0; j < data.size(); j += 512) data[j] = static_cast<char>(rng());
      if (WriteWhole(path, data, O_TRUNC)) written[path] = std::move(data);
      else ++errors;
    }
  };
  write_some(0, 10);
  env.cluster().KillOsd(1);
  write_some(10, 30);  // the PGs on the dead OSD go degraded, then re-peer
  REQUIRE(env.cluster().StartOsd(1).ok());
  write_some(30, 40);
  CHECK(errors == 0);
  size_t bad = 0;
  for (const auto& [path, data] : written)
    if (ReadFile(path) != data) {
      if (bad++ < 5) UNSCOPED_INFO("wrong contents: " << path);
    }
  CHECK(bad == 0);
  CHECK(written.size() == 40);
}
