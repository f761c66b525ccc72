// `nacre rados ...`: object commands (rados_commands.cc) and the benchmark
// (rados_bench.cc), in the grammar of Ceph's `rados` tool.
#pragma once

#include <memory>
#include <string>

#include "client/cli.h"
#include "librados/rados.h"

namespace nacre::cli {

// Adds `rados` and its subcommands to `app`.
void RegisterRadosCommands(CLI::App& app, Context& ctx);

// Connects a librados client the way every Nacre client resolves its
// configuration: --conf / $NACRE_CONF / /etc/nacre/nacre.conf, then -m and
// --keyring over it. The CLI bounds each op at 120 s unless the config sets
// rados_osd_op_timeout.
Result<std::unique_ptr<rados::Rados>> ConnectRados(const Context& ctx);

struct BenchArgs {
  std::string pool;
  double seconds = 0;
  std::string mode;  // write | seq | rand
  uint64_t op_size = 4 << 20;
  int threads = 16;
  bool no_cleanup = false;
  std::string run_name;  // metadata object name; default benchmark_last_metadata
};
// Runs the benchmark and prints progress and a summary (JSON with --format json).
void RunBench(Context& ctx, const BenchArgs& args);
// Removes what `bench write --no-cleanup` left behind.
void RunBenchCleanup(Context& ctx, const std::string& pool, const std::string& run_name);

}  // namespace nacre::cli
