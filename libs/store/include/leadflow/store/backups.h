#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "leadflow/v1/backup.pb.h"

namespace leadflow::store {

// One backup of a data dir (Database::CreateBackup), kept in a backup dir
// with the others; files unchanged between backups are stored once.
struct BackupInfo {
  uint32_t id = 0;  // 1, 2, 3… in its backup dir
  absl::Time created;
  uint64_t size_bytes = 0;  // shared files counted in every backup holding them
  uint32_t files = 0;
};

// As the API and the CLI show it.
v1::Backup ToProto(const BackupInfo& info, const std::string& backup_dir);

// The backups in `backup_dir`, oldest first; none when it holds none.
// FAILED_PRECONDITION when it does not exist.
absl::StatusOr<std::vector<BackupInfo>> ListBackups(const std::string& backup_dir);

// Restores backup `id` of `backup_dir` (0: the newest) into `data_dir`,
// after checking every file's checksum. `data_dir` must be new or empty
// (FAILED_PRECONDITION otherwise: a restore never mixes with live data);
// NOT_FOUND when there is no such backup, DATA_LOSS when a file of it is
// damaged. Returns the backup restored.
absl::StatusOr<BackupInfo> RestoreBackup(const std::string& backup_dir, uint32_t id,
                                         const std::string& data_dir);

}  // namespace leadflow::store
