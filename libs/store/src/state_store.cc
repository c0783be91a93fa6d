#include "leadflow/store/state_store.h"

namespace leadflow::store {

absl::string_view KeyspaceName(Keyspace keyspace) {
  switch (keyspace) {
    case Keyspace::kLog:
      return "log";
    case Keyspace::kState:
      return "state";
    case Keyspace::kViews:
      return "views";
  }
  return "unknown";
}

}  // namespace leadflow::store
