#pragma once

#include <rocksdb/status.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace leadflow::store {

// Turns a RocksDB status into an absl::Status, naming `what` failed.
inline absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", status.ToString());
  if (status.IsNotFound()) return absl::NotFoundError(message);
  if (status.IsNoSpace()) return absl::ResourceExhaustedError(message);
  if (status.IsIOError() || status.IsBusy() || status.IsTimedOut() || status.IsTryAgain()) {
    return absl::UnavailableError(message);
  }
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  return absl::InternalError(message);
}

}  // namespace leadflow::store

// Returns FromRocks(expr, what) from the calling function when it is not OK.
#define LEADFLOW_RETURN_IF_ROCKS_ERROR(expr, what)                         \
  do {                                                                     \
    const ::rocksdb::Status leadflow_rocks_status_ = (expr);               \
    if (!leadflow_rocks_status_.ok()) {                                    \
      return ::leadflow::store::FromRocks(leadflow_rocks_status_, (what)); \
    }                                                                      \
  } while (false)
