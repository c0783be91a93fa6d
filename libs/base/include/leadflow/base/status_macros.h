#pragma once

#include "absl/status/status.h"

// Returns the status of `expr` from the enclosing function when it is not OK.
#define LEADFLOW_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    absl::Status leadflow_status_ = (expr);              \
    if (!leadflow_status_.ok()) return leadflow_status_; \
  } while (false)

#define LEADFLOW_CONCAT_INNER_(a, b) a##b
#define LEADFLOW_CONCAT_(a, b) LEADFLOW_CONCAT_INNER_(a, b)

// Declares `lhs` from a StatusOr `rexpr`, or returns its status.
#define LEADFLOW_ASSIGN_OR_RETURN(lhs, rexpr) \
  LEADFLOW_ASSIGN_OR_RETURN_IMPL_(LEADFLOW_CONCAT_(leadflow_statusor_, __LINE__), lhs, rexpr)

#define LEADFLOW_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                    \
  if (!statusor.ok()) return statusor.status();               \
  lhs = *std::move(statusor)
