// fsx: a random file-operation checker (in the spirit of the classic fsx).
//
// Applies a seeded random mix of read, write, truncate, punch hole,
// fallocate (keep size and growing) and copy_file_range to one file, and
// the same operations to an in-memory model of its contents; every read,
// and a full comparison every `check_every` ops and at the end, must match
// the model byte for byte. The file is closed and reopened now and then so
// size and data also cross close/open. Runs are replayable: the same seed
// gives the same operations.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nacre::qa {

struct FsxOptions {
  uint64_t seed = 1;
  uint64_t ops = 100000;
  uint64_t max_size = 12ull << 20;  // crosses several 4 MiB objects
  uint64_t max_io = 256 << 10;
  uint64_t check_every = 2000;
};

struct FsxResult {
  uint64_t ops_done = 0;
  uint64_t mismatches = 0;
  std::string first_error;  // the op and offset of the first mismatch or failure
  uint64_t counts[8] = {};  // per op kind, for the log
  std::vector<std::string> last_ops;  // on failure: the ops leading to it, oldest first
};

// Runs against `path` (created/truncated). Stops at the first mismatch.
FsxResult RunFsx(const std::string& path, const FsxOptions& opts);

// The name of op kind i (FsxResult::counts).
std::string FsxOpName(int i);

// NACRE_SEED if set, else a fresh random seed.
uint64_t SeedFromEnv();

}  // namespace nacre::qa
