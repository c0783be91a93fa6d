// leadflow: command-line client of a running leadflowd.
//
// Prints each result as one JSON object per line (protobuf's JSON mapping);
// errors go to stderr as "leadflow: CODE: message" with exit status 1.

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/v1/service.grpc.pb.h"

namespace {

using namespace leadflow;  // NOLINT: the binary's own wiring

const char* CodeName(grpc::StatusCode code) {
  static const char* kNames[] = {"OK",
                                 "CANCELLED",
                                 "UNKNOWN",
                                 "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED",
                                 "NOT_FOUND",
                                 "ALREADY_EXISTS",
                                 "PERMISSION_DENIED",
                                 "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION",
                                 "ABORTED",
                                 "OUT_OF_RANGE",
                                 "UNIMPLEMENTED",
                                 "INTERNAL",
                                 "UNAVAILABLE",
                                 "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i < 17 ? kNames[i] : "UNKNOWN";
}

int Report(const grpc::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "leadflow: %s: %s\n", CodeName(status.error_code()),
               status.error_message().c_str());
  return 1;
}

int Print(const google::protobuf::Message& message) {
  std::printf("%s\n", ToJson(message).c_str());
  return 0;
}

std::unique_ptr<grpc::ClientContext> Context(int timeout_seconds) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (timeout_seconds > 0) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_seconds));
  }
  return ctx;
}

// One unary call: prints the response, or reports the error. Returns the
// exit status.
template <typename Stub, typename Request, typename Response>
int Unary(Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
          const Request& request, int timeout_seconds) {
  Response response;
  auto ctx = Context(timeout_seconds);
  grpc::Status status = (stub.*method)(ctx.get(), request, &response);
  return status.ok() ? Print(response) : Report(status);
}

struct Common {
  std::string target = "127.0.0.1:50051";
  int timeout = 30;
};

// --- publish -------------------------------------------------------------

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
  auto stub = v1::IntakeService::NewStub(
      grpc::CreateChannel(common.target, grpc::InsecureChannelCredentials()));
  v1::PublishChannelEventRequest request;
  *request.mutable_event() = event;
  return Unary(*stub, &v1::IntakeService::Stub::PublishChannelEvent, request, common.timeout);
}

int ParseCallKind(const std::string& kind, v1::CallKind* out) {
  static const std::map<std::string, v1::CallKind> kKinds = {
      {"incoming", v1::CALL_KIND_INCOMING},
      {"outgoing", v1::CALL_KIND_OUTGOING},
      {"missed", v1::CALL_KIND_MISSED},
      {"voicemail", v1::CALL_KIND_VOICEMAIL}};
  auto it = kKinds.find(kind);
  if (it == kKinds.end()) return 2;
  *out = it->second;
  return 0;
}

// --- leads ---------------------------------------------------------------

std::unique_ptr<v1::LeadService::Stub> LeadStub(const Common& common) {
  return v1::LeadService::NewStub(
      grpc::CreateChannel(common.target, grpc::InsecureChannelCredentials()));
}

std::string LeadName(const std::string& id_or_name) {
  return id_or_name.rfind("leads/", 0) == 0 ? id_or_name : "leads/" + id_or_name;
}

int ParseJunkReason(const std::string& reason, v1::JunkReason* out) {
  std::string upper = "JUNK_REASON_" + reason;
  for (auto& c : upper) c = (c == '-') ? '_' : static_cast<char>(std::toupper(c));
  return v1::JunkReason_Parse(upper, out) ? 0 : 2;
}

int ParseSource(const std::string& source, v1::LeadSource* out) {
  if (source.empty()) return 0;
  std::string upper = "LEAD_SOURCE_" + source;
  for (auto& c : upper) c = (c == '-') ? '_' : static_cast<char>(std::toupper(c));
  return v1::LeadSource_Parse(upper, out) ? 0 : 2;
}

// --- events --------------------------------------------------------------

int TailEvents(const Common& common, const std::vector<std::string>& from, bool follow,
               int64_t limit) {
  auto channel = grpc::CreateChannel(common.target, grpc::InsecureChannelCredentials());
  v1::SubscribeEventsRequest request;
  for (const auto& spec : from) {
    std::pair<std::string, std::string> parts = absl::StrSplit(spec, ':');
    int32_t partition = 0;
    int64_t offset = 0;
    if (!absl::SimpleAtoi(parts.first, &partition) || !absl::SimpleAtoi(parts.second, &offset)) {
      std::fprintf(stderr, "leadflow: --from takes PARTITION:OFFSET, not '%s'\n", spec.c_str());
      return 2;
    }
    auto* start = request.add_start();
    start->set_partition(partition);
    start->set_offset(offset);
  }
  // Without --follow, stop at the end offsets of the moment.
  std::map<int32_t, int64_t> end;
  if (!follow) {
    auto admin = v1::AdminService::NewStub(channel);
    v1::ServerStatus server_status;
    auto ctx = Context(common.timeout);
    grpc::Status status = admin->GetServerStatus(ctx.get(), {}, &server_status);
    if (!status.ok()) return Report(status);
    for (const auto& row : server_status.processors()) {
      if (row.topic() == "leadflow.events.v1") end[row.partition()] = row.end_offset();
    }
    for (const auto& start : request.start()) {
      end[start.partition()] = std::max(end[start.partition()], start.offset());
    }
  }
  auto reached_end = [&](const std::map<int32_t, int64_t>& next) {
    for (const auto& [partition, offset] : end) {
      auto it = next.find(partition);
      if ((it == next.end() ? 0 : it->second) < offset) return false;
    }
    return true;
  };
  std::map<int32_t, int64_t> next;
  for (const auto& start : request.start()) next[start.partition()] = start.offset();
  if (!follow && reached_end(next)) return 0;
  auto stub = v1::EventService::NewStub(channel);
  grpc::ClientContext ctx;
  auto reader = stub->SubscribeEvents(&ctx, request);
  v1::SubscribedEvent event;
  int64_t printed = 0;
  while (reader->Read(&event)) {
    Print(event);
    next[event.position().partition()] = event.position().offset() + 1;
    if ((limit > 0 && ++printed >= limit) || (!follow && reached_end(next))) {
      ctx.TryCancel();
      break;
    }
  }
  grpc::Status status = reader->Finish();
  if (status.error_code() == grpc::StatusCode::CANCELLED) return 0;
  return Report(status);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"leadflow: client of a running leadflowd"};
  app.require_subcommand(1);
  Common common;
  app.add_option("--target", common.target, "leadflowd address host:port")
      ->envname("LEADFLOW_TARGET")
      ->capture_default_str();
  app.add_option("--timeout", common.timeout, "Seconds per call")->capture_default_str();
  int rc = 0;

  // publish
  auto* publish = app.add_subcommand("publish", "Publish a channel event");
  publish->require_subcommand(1);
  CallArgs call;
  auto* pub_call =
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
    v1::CallKind kind;
    if (ParseCallKind(call.kind, &kind) != 0) {
      std::fprintf(stderr, "leadflow: --kind: '%s' is not incoming|outgoing|missed|voicemail\n",
                   call.kind.c_str());
      rc = 2;
      return;
    }
    c->set_kind(kind);
    c->set_customer_phone(call.phone);
    c->set_operator_id(call.op);
    c->set_line(call.line);
    c->set_customer_name(call.name);
    c->set_duration_seconds(call.duration);
    c->set_recording_url(call.recording);
    rc = Publish(common, event);
  });

  EmailArgs email;
  auto* pub_email = publish->add_subcommand("email", "An email");
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

  FormArgs form;
  auto* pub_form = publish->add_subcommand("form", "A web form post");
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

  std::string json_file;
  auto* pub_json =
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

  // leads
  auto* leads = app.add_subcommand("leads", "Read and change leads");
  leads->require_subcommand(1);
  std::string status_filter, responsible_filter, source_filter;
  int page_size = 100;
  bool all_pages = false;
  auto* list = leads->add_subcommand("list", "List leads, one JSON object per line");
  list->add_option("--status", status_filter);
  list->add_option("--responsible", responsible_filter);
  list->add_option("--source", source_filter, "call|email|web-form|callback|chat|manual");
  list->add_option("--page-size", page_size)->capture_default_str();
  list->add_flag("--all", all_pages, "Follow page tokens to the end");
  list->callback([&] {
    v1::ListLeadsRequest request;
    request.set_status_id(status_filter);
    request.set_responsible_id(responsible_filter);
    request.set_page_size(page_size);
    v1::LeadSource source = v1::LEAD_SOURCE_UNSPECIFIED;
    if (ParseSource(source_filter, &source) != 0) {
      std::fprintf(stderr, "leadflow: --source: unknown source '%s'\n", source_filter.c_str());
      rc = 2;
      return;
    }
    request.set_source(source);
    auto stub = LeadStub(common);
    do {
      v1::ListLeadsResponse response;
      auto ctx = Context(common.timeout);
      grpc::Status status = stub->ListLeads(ctx.get(), request, &response);
      if (!status.ok()) {
        rc = Report(status);
        return;
      }
      for (const auto& lead : response.leads()) Print(lead);
      request.set_page_token(response.next_page_token());
    } while (all_pages && !request.page_token().empty());
  });

  std::string lead_id;
  auto* get = leads->add_subcommand("get", "Get one lead");
  get->add_option("id", lead_id, "Lead id or leads/{id}")->required();
  get->callback([&] {
    v1::GetLeadRequest request;
    request.set_name(LeadName(lead_id));
    rc = Unary(*LeadStub(common), &v1::LeadService::Stub::GetLead, request, common.timeout);
  });

  auto* timeline = leads->add_subcommand(
      "timeline", "A lead's history, oldest first: one event (who, when, why) per line");
  timeline->add_option("id", lead_id, "Lead id or leads/{id}")->required();
  timeline->callback([&] {
    v1::ListLeadTimelineRequest request;
    request.set_name(LeadName(lead_id));
    request.set_page_size(1000);
    auto stub = LeadStub(common);
    do {
      v1::ListLeadTimelineResponse response;
      auto ctx = Context(common.timeout);
      grpc::Status status = stub->ListLeadTimeline(ctx.get(), request, &response);
      if (!status.ok()) {
        rc = Report(status);
        return;
      }
      for (const auto& event : response.events()) Print(event);
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
  });

  std::string new_status, request_id;
  int64_t expected_version = -1;
  auto* set_status = leads->add_subcommand("set-status", "Move a lead to a status");
  set_status->add_option("id", lead_id)->required();
  set_status->add_option("status", new_status)->required();
  set_status->add_option("--expected-version", expected_version);
  set_status->add_option("--request-id", request_id);
  set_status->callback([&] {
    v1::ChangeLeadStatusRequest request;
    request.set_name(LeadName(lead_id));
    request.set_status_id(new_status);
    request.set_request_id(request_id);
    request.set_actor("cli");
    if (expected_version >= 0) request.set_expected_version(expected_version);
    rc =
        Unary(*LeadStub(common), &v1::LeadService::Stub::ChangeLeadStatus, request, common.timeout);
  });

  std::string responsible;
  auto* assign = leads->add_subcommand("assign", "Set a lead's responsible");
  assign->add_option("id", lead_id)->required();
  assign->add_option("user", responsible)->required();
  assign->callback([&] {
    v1::AssignLeadRequest request;
    request.set_name(LeadName(lead_id));
    request.set_responsible_id(responsible);
    request.set_actor("cli");
    rc = Unary(*LeadStub(common), &v1::LeadService::Stub::AssignLead, request, common.timeout);
  });

  std::string dup_phone, dup_email, dup_name, dup_company;
  auto* duplicates = leads->add_subcommand(
      "duplicates", "Leads that may be the same person, one JSON object per line");
  duplicates->add_option("--phone", dup_phone);
  duplicates->add_option("--email", dup_email);
  duplicates->add_option("--name", dup_name, "With --company");
  duplicates->add_option("--company", dup_company, "With --name");
  duplicates->callback([&] {
    v1::FindDuplicateLeadsRequest request;
    request.set_phone(dup_phone);
    request.set_email(dup_email);
    request.set_name(dup_name);
    request.set_company_title(dup_company);
    v1::FindDuplicateLeadsResponse response;
    auto ctx = Context(common.timeout);
    grpc::Status status = LeadStub(common)->FindDuplicateLeads(ctx.get(), request, &response);
    if (!status.ok()) {
      rc = Report(status);
      return;
    }
    for (const auto& duplicate : response.duplicates()) Print(duplicate);
  });

  std::string reopen_reason, reopen_status, actor = "cli";
  auto* reopen = leads->add_subcommand("reopen", "Take a junk lead back into work (supervisors)");
  reopen->add_option("id", lead_id)->required();
  reopen->add_option("--reason", reopen_reason, "Why it is not junk")->required();
  reopen->add_option("--status", reopen_status, "An in-progress status (default: the first)");
  reopen->add_option("--actor", actor, "Who does it: a supervisor's user id")->required();
  reopen->callback([&] {
    v1::ReopenLeadRequest request;
    request.set_name(LeadName(lead_id));
    request.set_reason(reopen_reason);
    request.set_status_id(reopen_status);
    request.set_actor(actor);
    rc = Unary(*LeadStub(common), &v1::LeadService::Stub::ReopenLead, request, common.timeout);
  });

  std::string junk_reason, junk_text;
  auto* junk = leads->add_subcommand("junk", "Mark a lead junk");
  junk->add_option("id", lead_id)->required();
  junk->add_option("--reason", junk_reason, "spam|wrong-number|unreachable|defunct|duplicate|other")
      ->required();
  junk->add_option("--text", junk_text, "Required with --reason other");
  junk->callback([&] {
    v1::MarkLeadJunkRequest request;
    request.set_name(LeadName(lead_id));
    v1::JunkReason reason;
    if (ParseJunkReason(junk_reason, &reason) != 0) {
      std::fprintf(stderr, "leadflow: --reason: unknown reason '%s'\n", junk_reason.c_str());
      rc = 2;
      return;
    }
    request.set_reason(reason);
    request.set_text(junk_text);
    request.set_actor("cli");
    rc = Unary(*LeadStub(common), &v1::LeadService::Stub::MarkLeadJunk, request, common.timeout);
  });

  // events
  auto* events = app.add_subcommand("events", "The domain event log");
  events->require_subcommand(1);
  std::vector<std::string> from;
  bool follow = false;
  int64_t limit = 0;
  auto* tail = events->add_subcommand("tail", "Print events from a position");
  tail->add_option("--from", from, "PARTITION:OFFSET (repeatable; others start at 0)");
  tail->add_flag("--follow,-f", follow, "Keep following new events");
  tail->add_option("--limit", limit, "Stop after this many events");
  tail->callback([&] { rc = TailEvents(common, from, follow, limit); });

  auto* status_cmd = app.add_subcommand("status", "Processor progress and lag");
  status_cmd->callback([&] {
    auto stub = v1::AdminService::NewStub(
        grpc::CreateChannel(common.target, grpc::InsecureChannelCredentials()));
    rc = Unary(*stub, &v1::AdminService::Stub::GetServerStatus, v1::GetServerStatusRequest(),
               common.timeout);
  });

  CLI11_PARSE(app, argc, argv);
  return rc;
}
