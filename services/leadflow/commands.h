#pragma once

// The command groups of the leadflow CLI, one file each; every Add… adds
// its subcommands to `app`, and a command run sets `rc` to its exit status.

#include <CLI/CLI.hpp>

#include "client.h"
#include "leadflow/v1/service.pb.h"

namespace leadflow::cli {

void AddPublishCommands(CLI::App& app, const Common& common, int& rc);   // publish
void AddLeadCommands(CLI::App& app, const Common& common, int& rc);      // leads
void AddPipelineCommands(CLI::App& app, const Common& common, int& rc);  // apply, pipelines, robots
void AddCrmCommands(CLI::App& app, const Common& common, int& rc);       // contacts … activities
void AddItemQueryCommands(CLI::App& app, const Common& common,
                          int& rc);  // counters, timeline, duplicates
void AddAccessCommands(CLI::App& app, const Common& common, int& rc);  // api-keys, access, whoami
void AddReportCommands(CLI::App& app, const Common& common, int& rc);  // report
void AddEventCommands(CLI::App& app, const Common& common, int& rc);   // events, status

// The criteria of `leads duplicates` and `duplicates`.
struct DuplicateArgs {
  std::string phone, email, name, company;
};
void AddDuplicateOptions(CLI::App* command, DuplicateArgs& args);
v1::FindDuplicateLeadsRequest DuplicateRequest(const DuplicateArgs& args);

}  // namespace leadflow::cli
