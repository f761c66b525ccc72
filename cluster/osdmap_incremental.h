// Applying an OSDMap incremental: how the monitors advance their OSDMap
// from a committed update, and how every daemon and client advances its copy
// from the incrementals it is sent (cluster/mon_session.h).
#pragma once

#include "common/status.h"
#include "mon.pb.h"

namespace nacre::monc {

// Applies `inc` to *m, or changes nothing and returns the error.
// check_epoch: `inc` must be the epoch after m's (what a subscriber wants).
// The monitors apply committed values without the check: a value decided by
// an earlier leader may commit after others, and every monitor re-stamps it
// the same way, so they still agree.
Status ApplyOsdMapIncremental(const proto::OSDMapIncremental& inc, proto::OSDMapProto* m, bool check_epoch = true);

}  // namespace nacre::monc
