// leadflow: command-line client of a running leadflowd.
//
// The options every command shares, and the command groups (one file each,
// commands.h). Results print as --output says (output.h); `apply` and
// `pipelines remove` print what changed as text, and `robots dry-run` what
// robots and triggers would do (JSON with --json). Errors go
// to stderr: a server's refusal as "leadflow: CODE: message" with exit
// status 1, a mistake in the command line or an input file as "leadflow:
// what: message" with exit status 2.

#include "backup_commands.h"
#include "commands.h"
#include "completion.h"
#include "import_command.h"
#include "output.h"

using namespace leadflow;       // NOLINT: the binary's own wiring
using namespace leadflow::cli;  // NOLINT

int main(int argc, char** argv) {
  CLI::App app{"leadflow: client of a running leadflowd"};
  app.require_subcommand(1);
  Common common;
  app.add_option("--target", common.target, "leadflowd address host:port")
      ->envname("LEADFLOW_TARGET")
      ->capture_default_str();
  app.add_option("--timeout", common.timeout, "Seconds per call")->capture_default_str();
  app.add_option("--tls-ca", common.tls.ca_file,
                 "Connect over TLS, trusting these CAs (PEM; without it: the system's)")
      ->envname("LEADFLOW_TLS_CA")
      ->group("TLS");
  app.add_option("--tls-cert", common.tls.cert_file, "Client certificate for mutual TLS (PEM)")
      ->envname("LEADFLOW_TLS_CERT")
      ->group("TLS");
  app.add_option("--tls-key", common.tls.key_file, "The client certificate's private key (PEM)")
      ->envname("LEADFLOW_TLS_KEY")
      ->group("TLS");
  app.add_option("--tls-server-name", common.tls.server_name,
                 "Name to check the server's certificate against (default: the target's host)")
      ->envname("LEADFLOW_TLS_SERVER_NAME")
      ->group("TLS");
  app.add_option("--token-file", common.token_file,
                 "File whose first line is the credential (an API key or a JWT; default: "
                 "$LEADFLOW_TOKEN, else ~/.config/leadflow/token)")
      ->envname("LEADFLOW_TOKEN_FILE");
  app.add_option("--request-id", RequestIdFlag(),
                 "Idempotency key of a change (default: a fresh one per run; the CLI's retries "
                 "reuse it)");
  app.add_option("-o,--output", OutputFlag(),
                 "json (one object per line), table or csv; auto: a table on a terminal, JSON "
                 "otherwise (reports take --format)")
      ->check(CLI::IsMember({"auto", "json", "table", "csv"}))
      ->envname("LEADFLOW_OUTPUT")
      ->capture_default_str();
  // Options of the whole CLI are accepted after the subcommand too.
  app.fallthrough();
  int rc = 0;

  AddPublishCommands(app, common, rc);
  AddLeadCommands(app, common, rc);
  AddPipelineCommands(app, common, rc);
  AddCrmCommands(app, common, rc);
  AddItemQueryCommands(app, common, rc);
  AddAccessCommands(app, common, rc);
  AddReportCommands(app, common, rc);
  AddEventCommands(app, common, rc);
  AddBackupCommands(app, common, rc);
  AddImportCommand(app, common, rc);
  AddCompletionCommand(app, rc);
  CLI11_PARSE(app, argc, argv);
  FlushOutput();
  return rc;
}
