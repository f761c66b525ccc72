// PG health checks, as Ceph names them: PG_AVAILABILITY for PGs that are not
// active (they serve no I/O), PG_DEGRADED for active PGs without every copy
// in place. HEALTH_OK therefore needs every PG active+clean.
#include <cstdio>
#include <string>

#include "daemons/mon/commands.h"

namespace nacre::mon {

namespace {

// Ceph caps the detail lines of one check (mon_health_max_detail).
constexpr size_t kMaxDetail = 50;

std::string Count(int n, const std::string& what) {
  return std::to_string(n) + (n == 1 ? " pg " : " pgs ") + what;
}

std::string Acting(const std::vector<int32_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

void AddDetail(HealthCheck* h, size_t* shown, size_t total, std::string line) {
  if (*shown < kMaxDetail) h->detail.push_back(std::move(line));
  else if (*shown == kMaxDetail) h->detail.push_back("... and " + std::to_string(total - kMaxDetail) + " more");
  ++*shown;
}

}  // namespace

PgMapView BuildPgView(const CommandContext& c) {
  if (c.pg_stats) return c.pg_stats->Build(c.maps.osdmap(), c.now_ms);
  return PgStatsStore().Build(c.maps.osdmap(), c.now_ms);
}

void AddPgHealthChecks(const CommandContext& c, const PgMapView& v, std::vector<HealthCheck>* out) {
  if (!c.pg_stats) return;
  int up = 0;
  for (const auto& [id, o] : c.maps.osdmap().osds()) up += o.up();
  // With no OSD up every PG is unknown for a reason OSD_DOWN/TOO_FEW_OSDS
  // already gives; saying it again per PG would only bury that. If neither
  // check fired (every OSD down and out), unknown PGs are the only sign.
  bool explained = false;
  for (const auto& h : *out) explained |= h.code == "OSD_DOWN" || h.code == "TOO_FEW_OSDS";
  const bool count_unknown = up > 0 || !explained;

  int inactive = 0, peering = 0, down = 0, stale = 0;
  int degraded = 0, undersized = 0, unclean = 0;
  uint64_t missing = 0, copies = 0;
  std::vector<const PgView*> inactive_pgs, unclean_pgs;
  for (const auto& pg : v.pgs) {
    auto pool = c.maps.osdmap().pools().find(pg.pgid.pool);
    uint32_t size = pool == c.maps.osdmap().pools().end() ? 1 : pool->second.size();
    copies += pg.num_objects * size;
    // Stale: the OSD that last reported it as primary is gone; whatever it
    // said, nobody serves the PG until a new primary reports.
    if (!StateHas(pg.state, "active") || StateHas(pg.state, "stale")) {
      if (pg.state == "unknown" && !count_unknown) continue;
      ++inactive;
      peering += StateHas(pg.state, "peering");
      down += StateHas(pg.state, "down");
      stale += StateHas(pg.state, "stale");
      inactive_pgs.push_back(&pg);
      continue;
    }
    if (StateHas(pg.state, "clean")) continue;
    unclean_pgs.push_back(&pg);
    missing += pg.num_missing;
    bool d = StateHas(pg.state, "degraded"), u = StateHas(pg.state, "undersized");
    degraded += d;
    undersized += u;
    unclean += !d && !u;
  }

  if (inactive > 0) {
    HealthCheck h{"PG_AVAILABILITY", "HEALTH_WARN", "Reduced data availability: " + Count(inactive, "inactive"), {}};
    if (peering) h.summary += ", " + Count(peering, "peering");
    if (down) h.summary += ", " + Count(down, "down");
    if (stale) h.summary += ", " + Count(stale, "stale");
    size_t shown = 0;
    for (const PgView* pg : inactive_pgs)
      AddDetail(&h, &shown, inactive_pgs.size(),
                "pg " + pg->pgid.ToString() + " is inactive, current state " + pg->state + ", last acting " +
                    Acting(pg->acting));
    out->push_back(std::move(h));
  }
  if (!unclean_pgs.empty()) {
    HealthCheck h{"PG_DEGRADED", "HEALTH_WARN", "Degraded data redundancy: ", {}};
    std::vector<std::string> parts;
    if (missing > 0) {
      char pct[32];
      snprintf(pct, sizeof pct, "%.3f", copies ? 100.0 * static_cast<double>(missing) / static_cast<double>(copies) : 0.0);
      parts.push_back(std::to_string(missing) + "/" + std::to_string(copies) + " objects degraded (" + pct + "%)");
    }
    if (degraded) parts.push_back(Count(degraded, "degraded"));
    if (undersized) parts.push_back(Count(undersized, "undersized"));
    // Active but neither: recovering, backfilling, remapped... still not clean.
    if (unclean) parts.push_back(Count(unclean, "not clean"));
    for (size_t i = 0; i < parts.size(); ++i) h.summary += (i ? ", " : "") + parts[i];
    size_t shown = 0;
    for (const PgView* pg : unclean_pgs)
      AddDetail(&h, &shown, unclean_pgs.size(),
                "pg " + pg->pgid.ToString() + " is " + pg->state + ", acting " + Acting(pg->acting));
    out->push_back(std::move(h));
  }
}

}  // namespace nacre::mon
