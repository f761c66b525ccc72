#include "qa/cluster/test_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/keyring.h"
#include "cluster/mon_client.h"

namespace nacre::qa {

std::string BuildDir() { return NACRE_BUILD_DIR; }

ProcResult RunShell(const std::string& cmd) {
  ProcResult r;
  FILE* f = popen((cmd + " 2>&1").c_str(), "r");
  if (!f) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  int st = pclose(f);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

namespace {

bool PortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// A run of `n` consecutive free ports, starting at a random place so that
// tests running at once rarely collide.
int FreePortRun(int n) {
  std::mt19937 rng(std::random_device{}());
  for (int attempt = 0; attempt < 200; ++attempt) {
    int base = 20000 + static_cast<int>(rng() % 30000);
    bool ok = true;
    for (int p = base; p < base + n && ok; ++p) ok = PortFree(p);
    if (ok) return base;
  }
  return -1;
}

}  // namespace

TestCluster::TestCluster(int num_mons) {
  char tmpl[] = "/tmp/nacre-test-XXXXXX";
  dir_ = mkdtemp(tmpl);
  conf_ = dir_ + "/nacre.conf";
  static const char* kNames[] = {"a", "b", "c", "d", "e", "f", "g"};
  for (int i = 0; i < num_mons; ++i) names_.push_back(kNames[i]);
  pids_.assign(static_cast<size_t>(num_mons), -1);
}

TestCluster::~TestCluster() {
  for (auto& [name, pid] : mds_pids_) KillMds(name);
  for (size_t i = 0; i < osd_pids_.size(); ++i) KillOsd(static_cast<int>(i));
  for (size_t i = 0; i < pids_.size(); ++i) KillMon(static_cast<int>(i));
  std::error_code ec;
  if (!getenv("NACRE_KEEP_TEST_DIR")) std::filesystem::remove_all(dir_, ec);
}

Status TestCluster::Create(const std::string& extra_conf) {
  // Per monitor: messenger, admin (messenger + 1), and /metrics.
  int base = FreePortRun(3 * num_mons());
  if (base < 0) return IOError("no free ports");
  std::string members;
  for (int i = 0; i < num_mons(); ++i) {
    mon_host_ += (i ? "," : "") + std::string("127.0.0.1:") + std::to_string(base + 2 * i);
    members += (i ? "," : "") + names_[i];
  }
  std::string admin_key = GenerateKey();
  admin_secret_ = *Base64Decode(admin_key);
  std::ofstream(dir_ + "/keyring") << "[mon.]\n\tkey = " << GenerateKey() << "\n[client.admin]\n\tkey = " << admin_key
                                   << "\n\tcaps mon = \"allow *\"\n[client.bootstrap-osd]\n\tkey = " << GenerateKey()
                                   << "\n\tcaps mon = \"allow profile bootstrap-osd\"\n";
  // MDS keys up front, in the shared keyring: OSDs learn client keys from
  // their keyring (their monitor session is client.bootstrap-osd, which is
  // not served the Auth map), so a key made later would be refused by them.
  {
    std::ofstream k(dir_ + "/keyring", std::ios::app);
    for (int n = 0; n < 4; ++n)
      k << "[mds." << MdsName(n) << "]\n\tkey = " << GenerateKey() << "\n\tcaps mon = \"allow profile mds\"\n";
  }
  std::ofstream(conf_) << "[global]\nfsid = " << "00000000-0000-4000-8000-" << base << "0000000"
                       << "\nmon host = " << mon_host_ << "\nmon initial members = " << members
                       << "\nkeyring = " << dir_ << "/keyring\nrun dir = " << dir_
                       << "\nlog level = " << (getenv("NACRE_TEST_LOG_LEVEL") ? getenv("NACRE_TEST_LOG_LEVEL") : "info")
                       << "\n" << extra_conf << "\n[mon]\nmon data = " << dir_
                       << "/mon.$id\nlog file = " << dir_ << "/mon.$id.log\n";
  std::ofstream conf(conf_, std::ios::app);
  for (int i = 0; i < num_mons(); ++i) {
    metrics_ports_.push_back(base + 2 * num_mons() + i);
    conf << "[mon." << names_[i] << "]\nmetrics port = " << metrics_ports_.back() << "\n";
  }
  conf.close();
  for (int i = 0; i < num_mons(); ++i) {
    ProcResult r = RunShell(BuildDir() + "/daemons/mon/nacre-mon --id " + names_[i] + " -c " + conf_ + " --mkfs");
    if (r.exit_code != 0) return IOError("mkfs mon." + names_[i] + ": " + r.out);
  }
  for (int i = 0; i < num_mons(); ++i) NACRE_RETURN_IF_ERROR(StartMon(i));
  return Status::OK();
}

namespace {

// Starts `argv` with stdout and stderr appended to `out`.
Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& out) {
  pid_t pid = fork();
  if (pid < 0) return IOError("fork failed");
  if (pid == 0) {
    FILE* f = fopen(out.c_str(), "a");
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
  return pid;
}

void KillAndReap(pid_t* pid) {
  if (*pid <= 0) return;
  kill(*pid, SIGKILL);
  waitpid(*pid, nullptr, 0);
  *pid = -1;
}

bool Running(pid_t pid) { return pid > 0 && waitpid(pid, nullptr, WNOHANG) == 0; }

}  // namespace

Status TestCluster::StartMon(int i) {
  if (MonRunning(i)) return Status::OK();
  NACRE_ASSIGN_OR_RETURN(pids_[static_cast<size_t>(i)],
                         Spawn({BuildDir() + "/daemons/mon/nacre-mon", "--id", names_[i], "-c", conf_},
                               dir_ + "/mon." + names_[i] + ".out"));
  return Status::OK();
}

void TestCluster::KillMon(int i) { KillAndReap(&pids_[static_cast<size_t>(i)]); }

bool TestCluster::MonRunning(int i) const { return Running(pids_[static_cast<size_t>(i)]); }

Result<int> TestCluster::AddOsd() {
  int n = static_cast<int>(osd_pids_.size());
  std::string data = dir_ + "/osd-" + std::to_string(n);
  ProcResult r = RunShell(BuildDir() + "/daemons/osd/nacre-osd -c " + conf_ + " --name osd.slot-" + std::to_string(n) +
                          " --osd_data " + data + " --mkfs");
  if (r.exit_code != 0) return IOError("mkfs osd-" + std::to_string(n) + ": " + r.out);
  osd_pids_.push_back(-1);
  NACRE_RETURN_IF_ERROR(StartOsd(n));
  return n;
}

Status TestCluster::StartOsd(int n) {
  if (OsdRunning(n)) return Status::OK();
  std::string tag = std::to_string(n);
  NACRE_ASSIGN_OR_RETURN(osd_pids_[static_cast<size_t>(n)],
                         Spawn({BuildDir() + "/daemons/osd/nacre-osd", "-c", conf_, "--name", "osd.slot-" + tag,
                                "--osd_data", dir_ + "/osd-" + tag,
                                "--osd_crush_host", "host-" + tag, "--log_file", dir_ + "/osd-" + tag + ".log"},
                               dir_ + "/osd-" + tag + ".out"));
  return Status::OK();
}

void TestCluster::KillOsd(int n) { KillAndReap(&osd_pids_[static_cast<size_t>(n)]); }

bool TestCluster::OsdRunning(int n) const { return Running(osd_pids_[static_cast<size_t>(n)]); }

Status TestCluster::StartMds(const std::string& name) {
  if (MdsRunning(name)) return Status::OK();
  // mds.a..mds.d have keys in the shared keyring (Create).
  NACRE_ASSIGN_OR_RETURN(mds_pids_[name],
                         Spawn({BuildDir() + "/daemons/mds/nacre-mds", "--id", name, "-c", conf_, "--log_file",
                                dir_ + "/mds." + name + ".log"},
                               dir_ + "/mds." + name + ".out"));
  return Status::OK();
}

void TestCluster::KillMds(const std::string& name) {
  auto it = mds_pids_.find(name);
  if (it != mds_pids_.end()) KillAndReap(&it->second);
}

bool TestCluster::MdsRunning(const std::string& name) const {
  auto it = mds_pids_.find(name);
  return it != mds_pids_.end() && Running(it->second);
}

Result<proto::CommandReply> TestCluster::Command(const std::string& prefix,
                                                 const std::map<std::string, std::string>& args, double timeout_secs) {
  return Send(-1, prefix, args, timeout_secs);
}

Result<proto::CommandReply> TestCluster::CommandTo(int i, const std::string& prefix,
                                                   const std::map<std::string, std::string>& args, double timeout_secs) {
  return Send(i, prefix, args, timeout_secs);
}

Result<proto::CommandReply> TestCluster::Send(int mon, const std::string& prefix,
                                              const std::map<std::string, std::string>& args, double timeout_secs) {
  NACRE_ASSIGN_OR_RETURN(auto mons, monc::ParseMonHost(mon_host_));
  if (mon >= 0) mons = {mons[static_cast<size_t>(mon)]};
  monc::MonClient c(std::move(mons), "client.admin", admin_secret_);
  proto::CommandRequest req;
  req.set_prefix(prefix);
  for (const auto& [k, v] : args) (*req.mutable_args())[k] = v;
  return c.Command(req, timeout_secs);
}

nlohmann::json TestCluster::JsonCommand(const std::string& prefix, const std::map<std::string, std::string>& args,
                                        int mon) {
  auto r = Send(mon, prefix, args, mon < 0 ? 10 : 5);
  if (!r.ok() || r->status().code() != 0) return nullptr;
  auto j = nlohmann::json::parse(r->json(), nullptr, false);
  return j.is_discarded() ? nlohmann::json(nullptr) : j;
}

bool TestCluster::AllPgsCleanWithCopies(size_t copies, std::string* why) {
  nlohmann::json d = JsonCommand("pg dump", {{"format", "json"}});
  if (!d.is_object() || !d.contains("pg_stats") || d["pg_stats"].empty()) {
    *why = "no pg dump";
    return false;
  }
  for (const auto& pg : d["pg_stats"]) {
    std::string id = pg["pgid"].get<std::string>();
    if (pg["state"] != "active+clean") {
      *why = id + " is " + pg["state"].get<std::string>();
      return false;
    }
    const auto& cp = pg["copies"];
    if (cp.size() != copies) {
      *why = id + " has " + std::to_string(cp.size()) + " copies";
      return false;
    }
    for (const auto& x : cp)
      if (x["digest"] != cp[0]["digest"] || x["num_objects"] != cp[0]["num_objects"]) {
        *why = id + ": copies differ";
        return false;
      }
  }
  return true;
}

ProcResult TestCluster::Cli(const std::string& args) {
  return RunShell(BuildDir() + "/client/nacre -c " + conf_ + " " + args);
}

bool TestCluster::WaitForQuorum(size_t size, double seconds) {
  return WaitFor(
      [&] {
        nlohmann::json j = JsonCommand("quorum_status");
        return j.is_object() && j["quorum_names"].size() == size;
      },
      std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
}

std::string TestCluster::Leader() {
  nlohmann::json j = JsonCommand("quorum_status");
  return j.is_object() ? j.value("quorum_leader_name", "") : "";
}

}  // namespace nacre::qa
