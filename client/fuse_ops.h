// The FUSE low-level operations of nacre-fuse, on top of libfs's FsClient.
//
// FUSE inode numbers are the filesystem's own, except that the mounted root
// (-r) is FUSE_ROOT_ID. Every operation passes the caller's uid, gid,
// supplementary groups and pid to the MDS, which checks permissions too
// (the kernel checks first: we mount with default_permissions). Attributes
// and entries are cached by the kernel for `attr_timeout` seconds only (0 by
// default: correctness first, another client's changes are seen at once);
// files are opened without keep_cache so another client's writes are seen
// after open.
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include "libfs/fs_client.h"

namespace nacre::fuse {

struct FuseContext {
  fs::FsClient* fs = nullptr;
  double attr_timeout = 0;
  double entry_timeout = 0;
};

// The operation table; userdata passed to fuse_session_new must be a FuseContext*.
const fuse_lowlevel_ops& Operations();

}  // namespace nacre::fuse
