// Tests of the Paxos wire codec and of option validation.
#include <catch2/catch.hpp>

#include "daemons/mon/paxos_codec.h"
#include "daemons/mon/paxos_options.h"

using namespace nacre;
using namespace nacre::mon;

TEST_CASE("paxos codec: bulk bytes travel in the payload and come back", "[paxos]") {
  proto::PaxosMessage m;
  m.set_op(proto::PAXOS_OP_BEGIN);
  m.set_epoch(4);
  m.mutable_proposal()->set_data(std::string(100000, 'p'));
  m.add_entries()->set_data("one");
  m.add_entries()->set_data("");
  m.add_entries()->set_data("three");
  m.mutable_snapshot()->set_version(9);
  m.mutable_snapshot()->set_data("snap");
  msg::Message wire = EncodePaxosMessage(m);
  CHECK(wire.header.size() < 200);  // the values are not in the header
  CHECK(wire.payload.size() == 100000 + 3 + 5 + 4);
  auto back = DecodePaxosMessage(wire);
  REQUIRE(back.ok());
  CHECK(back->SerializeAsString() == m.SerializeAsString());

  // Lengths that do not add up are refused, never read past the payload.
  msg::Message bad = wire;
  bad.payload = bad.payload.Slice(0, bad.payload.size() - 1);
  CHECK(DecodePaxosMessage(bad).status().code() == Code::kCorruption);
  bad = wire;
  bad.payload = Bytes(std::string(wire.payload.view()) + "x");
  CHECK(DecodePaxosMessage(bad).status().code() == Code::kCorruption);
  bad = wire;
  bad.header = "garbage\xff";
  CHECK(!DecodePaxosMessage(bad).ok());
  bad = wire;
  bad.type = 1;
  CHECK(!DecodePaxosMessage(bad).ok());
}

TEST_CASE("paxos options: defaults and config conversion are valid", "[paxos]") {
  PaxosOptions o;
  o.num_mons = 3;
  CHECK(o.Validate().ok());
  Config c("mon.a");
  REQUIRE(PaxosOptions::FromConfig(c, 1, 5).ok());  // the shipped defaults are valid
  REQUIRE(c.Set("paxos_tick_interval", "0.1").ok());
  REQUIRE(c.Set("mon_lease", "5").ok());
  REQUIRE(c.Set("mon_lease_renew_interval_factor", "0.6").ok());
  REQUIRE(c.Set("paxos_min", "500").ok());
  auto fc = PaxosOptions::FromConfig(c, 1, 5);
  REQUIRE(fc.ok());
  CHECK(fc->lease_ticks == 50);  // 5 s in 0.1 s ticks
  CHECK(fc->lease_renew_ticks == 30);
  CHECK(fc->keep_versions == 500);
  CHECK(fc->majority() == 3);
  REQUIRE(c.Set("paxos_tick_interval", "0").ok());
  CHECK(!PaxosOptions::FromConfig(c, 1, 5).ok());
  PaxosOptions bad = o;
  bad.lease_renew_ticks = bad.lease_ticks;
  CHECK(!bad.Validate().ok());
  bad = o;
  bad.rank = 3;
  CHECK(!bad.Validate().ok());
}
