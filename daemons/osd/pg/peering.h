// Peering decisions: given what each reachable member of a PG reports (its
// info, log and known-missing objects), choose the authoritative history and
// say what every member of the new acting set lacks.
//
// Pure functions of their inputs, so they are tested exhaustively without
// daemons (peering_test.cc); the OSD's PG (pg.h) gathers the reports and
// carries the plan out.
//
// The rules:
//  - Authoritative: the complete (not backfilling) reporter with the newest
//    last_update; ties prefer the primary, then acting members. Versions
//    order by epoch first, so a deposed primary's unacknowledged writes lose
//    to its successor's.
//  - A member whose log ends before the authoritative log's tail, or whose
//    contents are incomplete (an interrupted backfill), is backfilled: its
//    object listing is compared with the authoritative member's, and it
//    receives every object whose version differs and drops every object the
//    authoritative member lacks (BackfillMissing).
//  - Otherwise it lacks the objects of authoritative entries it does not
//    hold, and the objects of its own entries the authoritative log does not
//    hold (divergent writes that never completed: they are rolled back by
//    copying the authoritative object, or deleting it).
//  - Objects a member already knew it lacked stay missing.
#pragma once

#include <set>
#include <vector>

#include "common/status.h"
#include "daemons/osd/pg/pg_log.h"

namespace nacre::osd::pg {

struct PeerReport {
  int osd = -1;
  proto::PgInfoProto info;
  std::vector<proto::PgLogEntryProto> log;  // oldest first
  MissingSet missing;                       // what it knows it lacks
};

struct PeeringPlan {
  int auth = -1;                                 // whose log wins
  EVersion last_update, log_tail;
  std::vector<proto::PgLogEntryProto> log;       // the authoritative log
  std::map<int, MissingSet> missing;             // per acting member (primary included)
  std::set<int> backfill;                        // members to refill from scratch
  // For each object the primary lacks: a reporter that holds it (auth first).
  std::map<ObjectId, int> pull_from;
  std::set<ObjectId> unfound;                    // lacked by the primary and held by nobody
  MissingSet auth_missing;                       // what the authoritative member itself lacks
};

// `acting` is the new acting set, primary first; `reports` holds one entry
// per responder (acting members and any strays queried). Fails (kAgain) when
// no complete copy responded: the PG cannot go active.
Result<PeeringPlan> PlanPeering(const std::vector<int>& acting, const std::vector<PeerReport>& reports);

// What a backfilled member lacks, from object listings (object -> version):
// objects whose version differs from the authoritative copy's (need: that
// version) and objects the authoritative copy does not have (need: zero,
// i.e. remove), plus what the authoritative member itself lacks
// (`auth_missing`: its listed version of those is not the newest).
MissingSet BackfillMissing(const std::map<ObjectId, EVersion>& auth, const std::map<ObjectId, EVersion>& member,
                           const MissingSet& auth_missing);

// What `member` lacks relative to `auth`. False when the logs do not overlap
// and the member must be backfilled instead.
bool LogMissing(const PeerReport& auth, const PeerReport& member, MissingSet* out);

}  // namespace nacre::osd::pg
