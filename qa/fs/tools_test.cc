// Common tools on a nacre-fuse mount: tar extract and compare of a real
// source tree (this repository's common/), git init/add/commit/log/fsck,
// rsync -a twice (the second copies nothing), make building a tiny C
// project, and sqlite3 when installed; nacre-fuse's own daemon mode and
// error lines. One cluster for the whole binary.
#include <unistd.h>

#include <algorithm>

#include <catch2/catch.hpp>

#include "common/wait_for.h"
#include "qa/fs/fs_test_util.h"

using namespace nacre::qa;

namespace {

struct Env {
  FsTestEnv env;
  std::string mnt;
  nacre::Status status;
  Env() {
    status = env.Start();
    if (!status.ok()) return;
    auto m = env.Mount();
    if (m.ok()) mnt = *m;
    else status = m.status();
  }
};

Env& TheEnv() {
  static Env e;
  INFO(e.status.ToString());
  REQUIRE(e.status.ok());
  return e;
}
const std::string& Mnt() { return TheEnv().mnt; }

// Lazily unmounts a daemonized mount even when the test fails (the daemon
// exits once its mount is gone).
struct UnmountGuard {
  std::string dir;
  ~UnmountGuard() {
    if (IsFuseMount(dir)) RunShell("fusermount3 -u -z " + dir);
  }
};

// Runs a shell command; REQUIREs success and returns its output.
std::string Sh(const std::string& cmd) {
  ProcResult r = RunShell(cmd);
  INFO(cmd << "\n" << r.out);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

#ifndef NACRE_SOURCE_DIR
#error "NACRE_SOURCE_DIR must name the source tree"
#endif

}  // namespace

TEST_CASE("tools: tar extracts a source tree that compares equal") {
  std::string d = Mnt() + "/tar";
  Sh("mkdir " + d);
  Sh("tar -C " NACRE_SOURCE_DIR " -cf - common | tar -C " + d + " -xpf -");
  Sh("diff -r " NACRE_SOURCE_DIR "/common " + d + "/common");
  // And back out again: an archive made on the mount lists the same files.
  std::string a = Sh("cd " NACRE_SOURCE_DIR " && find common -type f | sort");
  std::string b = Sh("cd " + d + " && tar -cf - common | tar -tf - | grep -v '/$' | sort");
  CHECK(a == b);
}

TEST_CASE("tools: git init, add, commit, log, fsck") {
  std::string d = Mnt() + "/repo";
  Sh("mkdir " + d + " && cp -r " NACRE_SOURCE_DIR "/common " + d + "/");
  std::string git = "cd " + d + " && git -c user.name=t -c user.email=t@e ";
  Sh(git + "init -q");
  Sh(git + "add -A");
  Sh(git + "commit -qm first");
  Sh("echo change >> " + d + "/common/status.h");
  Sh(git + "commit -qam second");
  std::string log = Sh(git + "log --oneline");
  CHECK(std::count(log.begin(), log.end(), '\n') == 2);
  Sh(git + "fsck --strict");
  CHECK(Sh(git + "status --porcelain").empty());
}

TEST_CASE("tools: rsync -a twice copies nothing the second time") {
  std::string d = Mnt() + "/rsync";
  Sh("which rsync");
  Sh("rsync -a " NACRE_SOURCE_DIR "/common/ " + d + "/");
  Sh("diff -r " NACRE_SOURCE_DIR "/common " + d);
  std::string second = Sh("rsync -a --itemize-changes " NACRE_SOURCE_DIR "/common/ " + d + "/");
  INFO(second);
  CHECK(second.empty());
}

TEST_CASE("tools: make builds a tiny C project") {
  std::string d = Mnt() + "/cproj";
  Sh("mkdir " + d);
  Sh("printf 'int add(int a, int b) { return a + b; }\\n' > " + d + "/add.c");
  Sh("printf '#include <stdio.h>\\nint add(int, int);\\nint main(void) { printf(\"%%d\\\\n\", add(40, 2)); return 0; }\\n' > " +
     d + "/main.c");
  Sh("printf 'hello: main.o add.o\\n\\tcc -o hello main.o add.o\\n%%.o: %%.c\\n\\tcc -c -o $@ $<\\n' > " + d + "/Makefile");
  Sh("make -C " + d + " -s");
  CHECK(Sh(d + "/hello") == "42\n");
  // Nothing to do the second time: timestamps on the mount are coherent.
  CHECK(Sh("make -C " + d + " -q hello; echo $?") == "0\n");
}

TEST_CASE("tools: sqlite3 database on the mount") {
  if (RunShell("which sqlite3").exit_code != 0) {
    WARN("sqlite3 is not installed; skipped");
    return;
  }
  std::string db = Mnt() + "/test.db";
  Sh("sqlite3 " + db + " 'create table t(x integer primary key, y text);'");
  Sh("sqlite3 " + db + " 'with recursive c(i) as (select 1 union all select i+1 from c where i < 2000) "
     "insert into t select i, hex(randomblob(50)) from c;'");
  CHECK(Sh("sqlite3 " + db + " 'select count(*) from t;'") == "2000\n");
  CHECK(Sh("sqlite3 " + db + " 'pragma integrity_check;'") == "ok\n");
}

TEST_CASE("nacre-fuse: daemonizes once mounted, unmounts cleanly, errors are one line") {
  Env& e = TheEnv();
  const std::string fuse = BuildDir() + "/client/nacre-fuse";
  const std::string conf = e.env.cluster().conf();
  std::string d = e.env.cluster().dir() + "/daemon-mnt";
  Sh("mkdir -p " + d);
  UnmountGuard guard{d};
  // The parent returns only once the mount is usable.
  Sh(fuse + " -c " + conf + " " + d + " && ls " + d + " >/dev/null && touch " + d + "/daemon-was-here");
  CHECK(IsFuseMount(d));
  CHECK(access((Mnt() + "/daemon-was-here").c_str(), F_OK) == 0);
  Sh("fusermount3 -u " + d);
  CHECK_FALSE(IsFuseMount(d));
  CHECK(nacre::WaitFor([&] { return RunShell("pgrep -f '[n]acre-fuse -c " + conf + " " + d + "'").exit_code != 0; },
                       std::chrono::seconds(60)));

  Sh("mkdir -p " + d);
  ProcResult bad = RunShell(fuse + " -c " + conf + " --fs no-such-fs " + d + " 2>&1");
  INFO(bad.out);
  CHECK(bad.exit_code != 0);
  CHECK(bad.out.find("does not exist") != std::string::npos);
  CHECK(std::count(bad.out.begin(), bad.out.end(), '\n') == 1);
  CHECK_FALSE(IsFuseMount(d));

  ProcResult down = RunShell(fuse + " -m 127.0.0.1:1 -k " + e.env.cluster().dir() +
                             "/keyring --client_mount_timeout 3 " + d + " 2>&1");
  INFO(down.out);
  CHECK(down.exit_code != 0);
  CHECK(std::count(down.out.begin(), down.out.end(), '\n') == 1);
  CHECK_FALSE(IsFuseMount(d));
}

TEST_CASE("nacre-fuse -r mounts a subdirectory as the root") {
  Env& e = TheEnv();
  Sh("mkdir -p " + Mnt() + "/sub/inner && echo hi > " + Mnt() + "/sub/inner/file");
  auto sub = e.env.Mount({"-r", "/sub"});
  INFO(sub.status().ToString());
  REQUIRE(sub.ok());
  CHECK(ReadFile(*sub + "/inner/file") == "hi\n");
  // ".." of the mounted root stays inside the mount.
  CHECK(Sh("ls -a " + *sub + "/inner/..").find("inner") != std::string::npos);
  Sh("echo there > " + *sub + "/new");
  CHECK(ReadFile(Mnt() + "/sub/new") == "there\n");
  CHECK(e.env.Unmount(*sub).ok());
}
