#pragma once

#include <rocksdb/db.h>

#include <string>

#include "absl/status/statusor.h"
#include "leadflow/store/backups.h"

namespace leadflow::store {

// Backs the open `db` up into `backup_dir` (made when missing), then keeps
// the newest `keep` backups (0: all). For Database::CreateBackup.
absl::StatusOr<BackupInfo> CreateBackupOf(rocksdb::DB* db, const std::string& backup_dir, int keep);

}  // namespace leadflow::store
