// `leadflow publish`: channel events from the command line.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <type_traits>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "commands.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/config/access_yaml.h"
#include "leadflow/config/enum_names.h"
#include "leadflow/config/pipelines_yaml.h"
#include "leadflow/tls/grpc_tls.h"
#include "leadflow/v1/reports.grpc.pb.h"
#include "leadflow/v1/service.grpc.pb.h"

namespace leadflow::cli {
namespace {

struct CallArgs {
  std::string id, phone, kind = "incoming", op, line, name, recording, source = "cli";
  int duration = 0;
};
struct EmailArgs {
  std::string id, from, name, subject, body, message_id, source = "cli";
};
struct FormArgs {
  std::string id, form_id, page, source = "cli", utm_source, utm_medium, utm_campaign;
  std::vector<std::string> fields;
};

int Publish(const Common& common, const v1::ChannelEvent& event) {
  v1::PublishChannelEventRequest request;
  *request.mutable_event() = event;
  return Unary(*StubOf<v1::IntakeService>(common), &v1::IntakeService::Stub::PublishChannelEvent,
               request, common.timeout);
}

}  // namespace

void AddPublishCommands(CLI::App& app, const Common& common, int& rc) {
  static auto* publish = app.add_subcommand("publish", "Publish a channel event");
  publish->require_subcommand(1);
  static CallArgs call;
  static auto* pub_call =
      publish->add_subcommand("call", "A call (incoming, outgoing, missed, voicemail)");
  pub_call->add_option("--id", call.id, "Event id (idempotency key)")->required();
  pub_call->add_option("--phone", call.phone, "The customer's phone")->required();
  pub_call->add_option("--kind", call.kind, "incoming|outgoing|missed|voicemail")
      ->capture_default_str();
  pub_call->add_option("--operator", call.op, "The user who answered or called");
  pub_call->add_option("--line", call.line, "The telephony line");
  pub_call->add_option("--name", call.name, "Caller id name");
  pub_call->add_option("--duration", call.duration, "Seconds");
  pub_call->add_option("--recording", call.recording, "Recording URL");
  pub_call->add_option("--source", call.source, "The publishing integration")
      ->capture_default_str();
  pub_call->callback([&] {
    v1::ChannelEvent event;
    event.set_id(call.id);
    event.set_source(call.source);
    auto* c = event.mutable_call();
    absl::StatusOr<v1::CallKind> kind = config::ParseEnum<v1::CallKind>(call.kind);
    if (!kind.ok()) {
      rc = Invalid("--kind", kind.status());
      return;
    }
    c->set_kind(*kind);
    c->set_customer_phone(call.phone);
    c->set_operator_id(call.op);
    c->set_line(call.line);
    c->set_customer_name(call.name);
    c->set_duration_seconds(call.duration);
    c->set_recording_url(call.recording);
    rc = Publish(common, event);
  });
  static EmailArgs email;
  static auto* pub_email = publish->add_subcommand("email", "An email");
  pub_email->add_option("--id", email.id, "Event id (idempotency key)")->required();
  pub_email->add_option("--from", email.from, "Sender address")->required();
  pub_email->add_option("--name", email.name, "Sender name");
  pub_email->add_option("--subject", email.subject);
  pub_email->add_option("--body", email.body);
  pub_email->add_option("--message-id", email.message_id);
  pub_email->add_option("--source", email.source)->capture_default_str();
  pub_email->callback([&] {
    v1::ChannelEvent event;
    event.set_id(email.id);
    event.set_source(email.source);
    auto* e = event.mutable_email();
    e->set_from_address(email.from);
    e->set_from_name(email.name);
    e->set_subject(email.subject);
    e->set_body(email.body);
    e->set_message_id(email.message_id);
    rc = Publish(common, event);
  });

  static FormArgs form;
  static auto* pub_form = publish->add_subcommand("form", "A web form post");
  pub_form->add_option("--id", form.id, "Event id (idempotency key)")->required();
  pub_form->add_option("--form-id", form.form_id)->required();
  pub_form->add_option("--field", form.fields, "KEY=VALUE (name, phone, email, company, comment…)");
  pub_form->add_option("--page", form.page, "Page URL");
  pub_form->add_option("--utm-source", form.utm_source);
  pub_form->add_option("--utm-medium", form.utm_medium);
  pub_form->add_option("--utm-campaign", form.utm_campaign);
  pub_form->add_option("--source", form.source)->capture_default_str();
  pub_form->callback([&] {
    v1::ChannelEvent event;
    event.set_id(form.id);
    event.set_source(form.source);
    auto* f = event.mutable_web_form();
    f->set_form_id(form.form_id);
    f->set_page_url(form.page);
    f->mutable_utm()->set_source(form.utm_source);
    f->mutable_utm()->set_medium(form.utm_medium);
    f->mutable_utm()->set_campaign(form.utm_campaign);
    for (const auto& kv : form.fields) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos) {
        std::fprintf(stderr, "leadflow: --field takes KEY=VALUE, not '%s'\n", kv.c_str());
        rc = 2;
        return;
      }
      (*f->mutable_fields())[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    rc = Publish(common, event);
  });

  static std::string json_file;
  static auto* pub_json =
      publish->add_subcommand("json", "Any channel event as JSON (file or - for stdin)");
  pub_json->add_option("file", json_file, "File with a leadflow.v1.ChannelEvent in JSON")
      ->required();
  pub_json->callback([&] {
    std::stringstream text;
    if (json_file == "-") {
      text << std::cin.rdbuf();
    } else {
      std::ifstream in(json_file);
      if (!in) {
        std::fprintf(stderr, "leadflow: cannot read %s\n", json_file.c_str());
        rc = 2;
        return;
      }
      text << in.rdbuf();
    }
    v1::ChannelEvent event;
    if (auto s = FromJson(text.str(), &event); !s.ok()) {
      std::fprintf(stderr, "leadflow: %s\n", std::string(s.message()).c_str());
      rc = 2;
      return;
    }
    rc = Publish(common, event);
  });
}

}  // namespace leadflow::cli
