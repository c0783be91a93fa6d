#pragma once

#include <CLI/CLI.hpp>

#include "client.h"

namespace leadflow::cli {

// `leadflow import FILE`: leads from a spreadsheet (CSV), each row through
// intake as a manual entry, with a column mapping, a preview, progress,
// idempotent re-runs and a file of the rows refused, with the reason.
// Sets `rc` to the exit status.
void AddImportCommand(CLI::App& app, const Common& common, int& rc);

}  // namespace leadflow::cli
