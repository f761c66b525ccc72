#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>

#include "common/config.h"
#include "common/log.h"

using namespace nacre;

TEST_CASE("option names accept spaces, dashes and underscores", "[config]") {
  CHECK(NormalizeOptionName("mon host") == "mon_host");
  CHECK(NormalizeOptionName(" mon-host ") == "mon_host");
  CHECK(FindOption("ms max frame bytes") != nullptr);
  CHECK(FindOption("no_such_option") == nullptr);
}

TEST_CASE("defaults, sections and flags apply in precedence order", "[config]") {
  Config c("osd.3");
  CHECK(c.GetInt("ms_max_frame_bytes") == 64 << 20);
  CHECK_FALSE(c.IsSet("ms_max_frame_bytes"));
  const char* text =
      "# cluster\n"
      "[global]\n"
      "mon host = 127.0.0.1:6789 ; the only one\n"
      "log_level = warn\n"
      "[osd]\n"
      "ms max frame bytes = 16M\n"
      "public_port = 1\n"
      "[osd.3]\n"
      "public_port = 7003\n"
      "[osd.4]\n"
      "public_port = 7004\n"
      "[mon]\n"
      "public_port = 6789\n";
  REQUIRE(c.ApplyIniText(text).ok());
  CHECK(c.GetString("mon_host") == "127.0.0.1:6789");
  CHECK(c.GetInt("ms_max_frame_bytes") == 16 << 20);
  CHECK(c.GetInt("public_port") == 7003);

  std::vector<std::string> args = {"--public-port", "9000", "positional", "--ms_keepalive_interval=2.5", "--mkfs"};
  bool help = false;
  REQUIRE(c.ApplyArgs(&args, "osd", &help).ok());
  CHECK_FALSE(help);
  CHECK(c.GetInt("public_port") == 9000);
  CHECK(c.GetDouble("ms_keepalive_interval") == 2.5);
  CHECK(args == std::vector<std::string>{"positional", "--mkfs"});
}

TEST_CASE("config understands --conf, --id and --help", "[config]") {
  char path[] = "/tmp/nacre-conf-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(path) << "[mon.b]\npublic_port = 6790\n";
  Config c("mon.a");
  std::vector<std::string> args = {"--id", "b", "-c", path, "-h"};
  bool help = false;
  REQUIRE(c.ApplyArgs(&args, "mon", &help).ok());
  CHECK(help);
  CHECK(c.entity() == "mon.b");
  CHECK(c.entity_type() == "mon");
  CHECK(c.entity_id() == "b");
  CHECK(c.GetInt("public_port") == 6790);
  unlink(path);
  CHECK(Config::HelpText("nacre-mon [flags]").find("--ms_max_frame_bytes <size> (default 64M)") != std::string::npos);
}

TEST_CASE("bad config input gets an error naming where", "[config]") {
  Config c("osd.1");
  Status s = c.ApplyIniText("[global]\nmon_hots = x\n");
  CHECK(s.code() == Code::kInvalid);
  CHECK(s.message().find("mon_hots") != std::string::npos);
  CHECK(c.ApplyIniText("[global\n").message().find("line 1") != std::string::npos);
  CHECK(c.ApplyIniText("a\n").message().find("line 1") != std::string::npos);
  CHECK(c.ApplyIniText("[osd]\npublic_port = seven\n").code() == Code::kInvalid);
  CHECK(c.ApplyIniText("ms_max_frame_bytes = 12Q\n").code() == Code::kInvalid);
  CHECK(c.ApplyIniText("x = \"unterminated\n").code() == Code::kInvalid);
  CHECK(c.ApplyIniText(std::string(kMaxConfigBytes + 1, '#')).code() == Code::kTooBig);
  std::vector<std::string> args = {"--public_port"};
  CHECK(c.ApplyArgs(&args, "osd", nullptr).code() == Code::kInvalid);
  args = {"--name", "noid"};
  CHECK(c.ApplyArgs(&args, "osd", nullptr).code() == Code::kInvalid);
  CHECK(c.Set("ms_keepalive_interval", "-1").code() == Code::kInvalid);
  CHECK(c.Set("public_port", "8080").ok());
}

TEST_CASE("$id, $type and $name expand in string options", "[config]") {
  Config c("osd.7");
  REQUIRE(c.ApplyIniText("[osd]\nlog_file = /var/log/nacre/$type/$name-$id.log\n").ok());
  CHECK(c.GetString("log_file") == "/var/log/nacre/osd/osd.7-7.log");
}

TEST_CASE("sizes parse with binary suffixes", "[config]") {
  CHECK(*ParseSize("4096") == 4096);
  CHECK(*ParseSize("4K") == 4096);
  CHECK(*ParseSize("16M") == 16 << 20);
  CHECK(*ParseSize("2G") == int64_t{2} << 30);
  CHECK_FALSE(ParseSize("").ok());
  CHECK_FALSE(ParseSize("-1").ok());
  CHECK_FALSE(ParseSize("99999999999T").ok());
}

TEST_CASE("logging levels come from config", "[config][log]") {
  Config c("osd.0");
  REQUIRE(c.Set("log_level", "error").ok());
  REQUIRE(c.Set("debug_ms", "trace").ok());
  REQUIRE(c.ApplyLogging().ok());
  CHECK(log::Enabled(log::Subsys::ms, log::kTrace));
  CHECK_FALSE(log::Enabled(log::Subsys::osd, log::kWarn));
  REQUIRE(c.Set("debug_osd", "loud").ok());
  CHECK(c.ApplyLogging().code() == Code::kInvalid);
  log::SetAllLevels(log::kWarn);
}
