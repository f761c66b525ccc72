// FsTestEnv and helpers (see fs_test_util.h).
#include "qa/fs/fs_test_util.h"

#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "common/wait_for.h"

namespace nacre::qa {

namespace {

pid_t SpawnLogged(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  FILE* f = fopen(log.c_str(), "a");
  if (f) {
    dup2(fileno(f), 1);
    dup2(fileno(f), 2);
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  _exit(127);
}

// Reaps pid if it exited; true if it is gone.
bool Exited(pid_t pid) {
  int st;
  return waitpid(pid, &st, WNOHANG) == pid;
}

}  // namespace

bool IsFuseMount(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // "... <mount point> <options> ... - fuse.nacre nacre ..."
    std::istringstream ls(line);
    std::string id, parent, dev, root, mnt;
    ls >> id >> parent >> dev >> root >> mnt;
    if (mnt == dir && line.find(" - fuse") != std::string::npos) return true;
  }
  return false;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int RunAs(uid_t uid, gid_t gid, const std::function<int()>& fn) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(255);
    _exit(fn() & 0xff);
  }
  int st = 0;
  if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) return -1;
  return WEXITSTATUS(st);
}

FsTestEnv::FsTestEnv() : cluster_(std::make_unique<TestCluster>(3)) {}

FsTestEnv::~FsTestEnv() {
  for (auto& m : mounts_) {
    if (m.pid <= 0) continue;
    RunShell("fusermount3 -u -z " + m.dir + " 2>/dev/null");
    kill(m.pid, SIGKILL);
    waitpid(m.pid, nullptr, 0);
    RunShell("umount -l " + m.dir + " 2>/dev/null");
    rmdir(m.dir.c_str());
  }
  // cluster_ (declared first) goes last: it kills the daemons.
}

Status FsTestEnv::Start(const std::string& extra_conf) {
  NACRE_RETURN_IF_ERROR(cluster_->Create("mds beacon interval = 1\nmds beacon grace = 10\n" + extra_conf));
  if (!cluster_->WaitForQuorum(3, 120)) return TimedOut("no quorum of 3 monitors");
  for (int i = 0; i < 3; ++i) NACRE_RETURN_IF_ERROR(cluster_->AddOsd().status());
  ProcResult r = cluster_->Cli("fs volume create " + fs_name_);
  if (r.exit_code != 0) return IOError("fs volume create: " + r.out);
  NACRE_RETURN_IF_ERROR(cluster_->StartMds(0));
  std::string why;
  if (!WaitFor([&] { return cluster_->AllPgsCleanWithCopies(3, &why); }, std::chrono::seconds(180)))
    return TimedOut("PGs not clean: " + why);
  return Status::OK();
}

Result<std::string> FsTestEnv::Mount(const std::vector<std::string>& extra_args) {
  MountProc m;
  m.dir = cluster_->dir() + "/mnt" + std::to_string(mounts_.size());
  if (mkdir(m.dir.c_str(), 0755) != 0) return IOError("mkdir " + m.dir);
  // Non-root test users must reach the mount: the cluster directory is
  // mkdtemp's 0700; let others traverse it (not list it).
  if (chmod(cluster_->dir().c_str(), 0711) != 0) return IOError("chmod " + cluster_->dir());
  m.log = cluster_->dir() + "/fuse" + std::to_string(mounts_.size()) + ".log";
  std::vector<std::string> argv = {BuildDir() + "/client/nacre-fuse", "-c", cluster_->conf(), m.dir, "-f"};
  for (const auto& a : extra_args) argv.push_back(a);
  m.pid = SpawnLogged(argv, m.log);
  if (m.pid < 0) return IOError("fork nacre-fuse");
  mounts_.push_back(m);
  bool exited = false;
  bool ok = WaitFor(
      [&] {
        if (IsFuseMount(m.dir)) return true;
        exited = Exited(m.pid);
        return exited;
      },
      std::chrono::seconds(300));
  if (exited || !ok) {
    if (exited) mounts_.back().pid = -1;
    return IOError("nacre-fuse did not mount " + m.dir + (exited ? " (it exited)" : "") + ": " + ReadFile(m.log));
  }
  return m.dir;
}

Status FsTestEnv::Unmount(const std::string& dir) {
  for (auto& m : mounts_) {
    if (m.dir != dir || m.pid <= 0) continue;
    ProcResult r = RunShell("fusermount3 -u " + dir);
    if (r.exit_code != 0) return IOError("fusermount3 -u: " + r.out);
    bool gone = WaitFor([&] { return Exited(m.pid); }, std::chrono::seconds(60));
    if (!gone) return TimedOut("nacre-fuse did not exit after unmount");
    m.pid = -1;
    rmdir(dir.c_str());
    return Status::OK();
  }
  return NotFound("not mounted by this test: " + dir);
}

}  // namespace nacre::qa
