// TestCluster: real daemon processes on 127.0.0.1 for process-level tests.
//
// Creates a temporary state directory with a config and keyring, picks free
// ports, runs `--mkfs` and starts each daemon as a child process, and can
// kill -9, stop and restart any of them by PID. The destructor kills every
// process it started and removes the directory, so a failing test leaves
// nothing behind. Waits are on conditions with deadlines, never fixed sleeps.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "admin.pb.h"
#include "common/status.h"
#include "common/wait_for.h"

namespace nacre::qa {


// Runs a command line through the shell; returns its exit code and output.
struct ProcResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};
ProcResult RunShell(const std::string& cmd);

class TestCluster {
 public:
  explicit TestCluster(int num_mons);
  ~TestCluster();
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  // mkfs for every monitor, then start them all. `extra_conf` is appended to
  // the [global] section ("mon osd report timeout = 3\n").
  Status Create(const std::string& extra_conf = "");
  Status StartMon(int i);
  // SIGKILL and reap; the monitor's store stays for a restart.
  void KillMon(int i);
  bool MonRunning(int i) const;
  std::string MonName(int i) const { return names_[i]; }
  int num_mons() const { return static_cast<int>(names_.size()); }

  // OSD processes (nacre-osd): data in DIR/osd-N, each under its own CRUSH
  // host "host-N". AddOsd runs --mkfs and starts it; returns N.
  Result<int> AddOsd();
  Status StartOsd(int n);
  void KillOsd(int n);
  bool OsdRunning(int n) const;

  // MDS processes (nacre-mds --id NAME); mds.a..mds.d have keys in the
  // cluster's keyring from Create on.
  Status StartMds(const std::string& name);
  void KillMds(const std::string& name);
  bool MdsRunning(const std::string& name) const;
  // The same by number: MDS n is named "a" + n ("a", "b", ...).
  Status StartMds(int n) { return StartMds(MdsName(n)); }
  void KillMds(int n) { KillMds(MdsName(n)); }
  bool MdsRunning(int n) const { return MdsRunning(MdsName(n)); }
  static std::string MdsName(int n) { return std::string(1, static_cast<char>('a' + n)); }

  // Sends one admin command, signed as client.admin, to any monitor.
  Result<proto::CommandReply> Command(const std::string& prefix, const std::map<std::string, std::string>& args = {},
                                      double timeout_secs = 30);
  // The same, to monitor i only (no failover).
  Result<proto::CommandReply> CommandTo(int i, const std::string& prefix,
                                        const std::map<std::string, std::string>& args = {}, double timeout_secs = 5);
  // A command's JSON result (to monitor i, or to any when i < 0); null on
  // any failure, so a waiting test just polls again.
  nlohmann::json JsonCommand(const std::string& prefix, const std::map<std::string, std::string>& args = {},
                             int mon = -1);
  // Every PG active+clean with exactly `copies` copies whose object counts
  // and digests agree, per `pg dump` (what each OSD reports of its own
  // copy); otherwise false with the first reason in `why`.
  bool AllPgsCleanWithCopies(size_t copies, std::string* why);
  // The `nacre` CLI against this cluster: "osd pool ls --format json".
  ProcResult Cli(const std::string& args);
  // Waits until a monitor in quorum answers with a quorum of `size`.
  bool WaitForQuorum(size_t size, double seconds = 60);
  // The current leader's name, via quorum_status ("" if none answers).
  std::string Leader();

  // Where monitor i serves /metrics.
  int MetricsPort(int i) const { return metrics_ports_[static_cast<size_t>(i)]; }
  const std::string& dir() const { return dir_; }
  const std::string& conf() const { return conf_; }
  std::string admin_secret() const { return admin_secret_; }
  std::string mon_host() const { return mon_host_; }

 private:
  Result<proto::CommandReply> Send(int mon, const std::string& prefix, const std::map<std::string, std::string>& args,
                                   double timeout_secs);

  std::string dir_, conf_, mon_host_, admin_secret_;
  std::vector<std::string> names_;
  std::vector<pid_t> pids_;
  std::vector<pid_t> osd_pids_;
  std::map<std::string, pid_t> mds_pids_;
  std::vector<int> metrics_ports_;
};

// Where the build put the binaries (set by CMake).
std::string BuildDir();

}  // namespace nacre::qa
