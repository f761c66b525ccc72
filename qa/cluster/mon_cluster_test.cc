// Three real nacre-mon processes on 127.0.0.1: leader failure during a
// stream of writes, catch-up of a restarted monitor, loss of quorum, and bad
// input to every admin command.
#include <catch2/catch.hpp>

#include <chrono>
#include <set>

#include <nlohmann/json.hpp>

#include "qa/cluster/test_cluster.h"

using namespace nacre;
using namespace nacre::qa;

namespace {

std::set<std::string> PoolsOn(TestCluster& c, int mon) {
  std::set<std::string> out;
  nlohmann::json pools = c.JsonCommand("osd pool ls", {}, mon);
  if (pools.is_array())
    for (const auto& n : pools) out.insert(n.get<std::string>());
  return out;
}

// True once monitor `mon` has every pool in `want`.
bool HasAllPools(TestCluster& c, int mon, const std::set<std::string>& want) {
  auto have = PoolsOn(c, mon);
  for (const auto& p : want)
    if (!have.count(p)) return false;
  return true;
}

int IndexOf(TestCluster& c, const std::string& name) {
  for (int i = 0; i < c.num_mons(); ++i)
    if (c.MonName(i) == name) return i;
  return -1;
}

}  // namespace

TEST_CASE("kill -9 of the leader during a stream of pool changes loses no acknowledged change", "[qa][mon]") {
  TestCluster c(3);
  REQUIRE(c.Create().ok());
  REQUIRE(c.WaitForQuorum(3));
  std::string old_leader = c.Leader();
  REQUIRE_FALSE(old_leader.empty());
  int old_idx = IndexOf(c, old_leader);

  std::set<std::string> acked;
  const int kWrites = 60, kKillAt = 20;
  for (int i = 0; i < kWrites; ++i) {
    if (i == kKillAt) c.KillMon(old_idx);
    std::string name = "pool" + std::to_string(i);
    auto r = c.Command("osd pool create", {{"pool", name}, {"pg_num", "8"}}, 30);
    if (r.ok() && r->status().code() == 0) acked.insert(name);
  }
  // The stream resumed after the kill: most writes after it were acknowledged.
  CHECK(acked.size() >= kWrites - 5);
  CHECK(acked.count("pool" + std::to_string(kWrites - 1)));

  REQUIRE(c.WaitForQuorum(2));
  std::string new_leader = c.Leader();
  CHECK_FALSE(new_leader.empty());
  CHECK(new_leader != old_leader);

  // Every acknowledged change is there, on every live monitor.
  for (int i = 0; i < c.num_mons(); ++i) {
    if (i == old_idx) continue;
    CHECK(WaitFor([&] { return HasAllPools(c, i, acked); }, std::chrono::seconds(30)));
  }

  // The old leader comes back and catches up.
  REQUIRE(c.StartMon(old_idx).ok());
  REQUIRE(c.WaitForQuorum(3));
  CHECK(WaitFor([&] { return HasAllPools(c, old_idx, acked); }, std::chrono::seconds(30)));
}

TEST_CASE("with two of three monitors down the CLI says there is no quorum", "[qa][mon]") {
  TestCluster c(3);
  REQUIRE(c.Create().ok());
  REQUIRE(c.WaitForQuorum(3));
  c.KillMon(1);
  c.KillMon(2);
  // The survivor stops answering once its lease runs out.
  REQUIRE(WaitFor([&] {
    auto r = c.CommandTo(0, "status", {}, 1);  // retries EAGAIN until its timeout
    return !r.ok() && r.status().code() == Code::kTimeout;
  }, std::chrono::seconds(30)));
  auto start = std::chrono::steady_clock::now();
  ProcResult r = c.Cli("--connect-timeout 3 -s");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("no monitor quorum") != std::string::npos);
  CHECK(secs < 30);  // it gives up instead of hanging
  // The survivor is still alive and answers again once a peer returns.
  CHECK(c.MonRunning(0));
  REQUIRE(c.StartMon(1).ok());
  CHECK(c.WaitForQuorum(2));
  CHECK(c.Cli("-s").exit_code == 0);
}

TEST_CASE("bad input to admin commands gets an error and the monitors keep serving", "[qa][mon]") {
  TestCluster c(3);
  REQUIRE(c.Create().ok());
  REQUIRE(c.WaitForQuorum(3));
  ProcResult created = c.Cli("osd pool create good 16");
  INFO(created.out);
  REQUIRE(created.exit_code == 0);
  REQUIRE(created.out == "pool 'good' created\n");
  const char* bad[] = {
      "osd pool get nosuchpool size",
      "osd pool get good colour",
      "osd pool set good size 0",
      "osd pool set good size lots",
      "osd pool set good min_size 9",
      "osd pool set nosuchpool size 2",
      "osd pool create",
      "osd pool create bad/name",
      "osd pool create x -5",
      "osd pool create x 99999999",
      "osd pool create x 8 striped",
      "osd pool rm good",
      "osd pool rm good other --yes-i-really-really-mean-it",
      "osd out 99",
      "osd in notanumber",
      "osd down",
      "osd erasure-code-profile set p k=0 m=1",
      "osd erasure-code-profile set p k=2",
      "osd erasure-code-profile get nosuch",
      "auth get client.nobody",
      "auth get-or-create notanentity",
      "auth get-or-create client.x mon",
      "config set osd no_such_option 1",
      "config set osd ms_keepalive_interval soon",
      "config get",
      "no such command",
      "health extra words here",
      "--format xml -s",
      "fs new",
      "fs new fs1 nosuchpool good",
      "fs new fs1 good good",
      "fs new 'bad name' good good",
      "fs rm",
  };
  for (const char* args : bad) {
    INFO(args);
    ProcResult r = c.Cli(args);
    CHECK(r.exit_code != 0);
    CHECK(r.out.rfind("Error E", 0) == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);  // one line
  }
  for (int i = 0; i < c.num_mons(); ++i) CHECK(c.MonRunning(i));
  ProcResult ls = c.Cli("osd pool ls");
  CHECK(ls.exit_code == 0);
  CHECK(ls.out == "good\n");
  CHECK(c.Cli("-s").exit_code == 0);
}

TEST_CASE("monitors serve Prometheus metrics", "[qa][mon]") {
  TestCluster c(3);
  REQUIRE(c.Create().ok());
  REQUIRE(c.WaitForQuorum(3));
  REQUIRE(c.Cli("osd pool create m 8").exit_code == 0);
  int leader = -1;
  for (int i = 0; i < c.num_mons(); ++i)
    if (c.MonName(i) == c.Leader()) leader = i;
  REQUIRE(leader >= 0);
  // Scraped with a plain HTTP/1.0 request over bash's /dev/tcp: no client library involved.
  std::string get = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(c.MetricsPort(leader)) +
                    "; printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3";
  ProcResult r;
  REQUIRE(WaitFor([&] {
    r = RunShell("bash -c \"" + get + "\"");
    return r.out.find("nacre_mon_commit_latency_seconds_count 1") != std::string::npos;
  }, std::chrono::seconds(30)));
  INFO(r.out);
  CHECK(r.out.find("HTTP/1.0 200") == 0);
  CHECK(r.out.find("nacre_mon_is_leader 1") != std::string::npos);
  CHECK(r.out.find("nacre_mon_quorum_size 3") != std::string::npos);
  CHECK(r.out.find("nacre_mon_commands_total{result=\"ok\"}") != std::string::npos);
  CHECK(r.out.find("nacre_mon_paxos_commits_total 1") != std::string::npos);
  // The messenger's counters are there too (the monitors have talked).
  CHECK(r.out.find("nacre_ms_handshakes_total ") != std::string::npos);
  CHECK(r.out.find("nacre_ms_messages_dispatched_total ") != std::string::npos);
}
