#include "common/sim/sim_trace.h"

#include <cassert>
#include <cstdio>

namespace nacre::sim {

namespace {

constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

uint64_t HashU64(uint64_t h, uint64_t v) {
  // Fixed little-endian order, independent of the host.
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= kFnvPrime;
  }
  return h;
}

}  // namespace

const char* TraceKindName(TraceKind k) {
  switch (k) {
    case TraceKind::kSend: return "send";
    case TraceKind::kDeliver: return "deliver";
    case TraceKind::kDropLoss: return "drop-loss";
    case TraceKind::kDropPartition: return "drop-partition";
    case TraceKind::kDropCrash: return "drop-crash";
    case TraceKind::kDuplicate: return "duplicate";
    case TraceKind::kHold: return "hold";
    case TraceKind::kRetransmit: return "retransmit";
    case TraceKind::kTimer: return "timer";
    case TraceKind::kCrash: return "crash";
    case TraceKind::kRestart: return "restart";
    case TraceKind::kPartition: return "partition";
    case TraceKind::kHeal: return "heal";
    case TraceKind::kNote: return "note";
  }
  return "?";
}

uint64_t HashBytes(std::string_view bytes, uint64_t h) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

void Trace::Record(TraceKind kind, EventLoop::Duration at, int node, int peer, uint64_t detail,
                   std::string_view label) {
  uint64_t h = HashU64(hash_, static_cast<uint64_t>(kind));
  h = HashU64(h, static_cast<uint64_t>(at.count()));
  h = HashU64(h, static_cast<uint64_t>(static_cast<int64_t>(node)));
  h = HashU64(h, static_cast<uint64_t>(static_cast<int64_t>(peer)));
  hash_ = HashU64(h, detail);
  ++events_;
  if (keep_lines_ == 0) return;
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%12.6fs %-14s node=%d peer=%d detail=%016llx",
                static_cast<double>(at.count()) / 1e9, TraceKindName(kind), node, peer,
                static_cast<unsigned long long>(detail));
  std::string line(buf);
  if (!label.empty()) {
    line += ' ';
    line += label;
  }
  Keep(std::move(line));
}

void Trace::Note(EventLoop::Duration at, std::string_view text) {
  Record(TraceKind::kNote, at, -1, -1, HashBytes(text));
  if (keep_lines_ == 0) return;
  // Replace the generic line Record kept with the readable text.
  assert(!recent_.empty());
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%12.6fs note ", static_cast<double>(at.count()) / 1e9);
  recent_.back() = std::string(buf) + std::string(text);
}

void Trace::Keep(std::string line) {
  recent_.push_back(std::move(line));
  while (recent_.size() > keep_lines_) recent_.pop_front();
}

std::string Trace::Dump() const {
  std::string out;
  for (const std::string& l : recent_) {
    out += l;
    out += '\n';
  }
  return out;
}

}  // namespace nacre::sim
