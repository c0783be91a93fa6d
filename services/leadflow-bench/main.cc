// leadflow-bench: end-to-end throughput and command latency of a running
// leadflowd.
//
// 1. Publishes N synthetic channel events (about 30% from people already
//    seen; calls, forms, emails and chats; about 2% invalid, sent one by one
//    and expected to be refused) in batches, and waits until every processor
//    has caught up: events per second from first publish to fully projected.
// 2. Times lead commands (AssignLead, each a real command with an event)
//    one after another: p50 / p99 / max latency.
// 3. A mixed workload from several clients at once over the leads of step 1:
//    status changes, conversions (lead → contact + deal through the
//    follow-up processor), activities planned and completed, and intake
//    batches, until every processor has caught up: operations per second
//    and latency per kind.
//
// Scale steps (off by default): --leads N loads N leads of distinct people
// first (step 0), and --read-qps Q runs GetLead and filtered ListLeads (50 a
// page) at Q calls per second over them for --read-seconds (step 4), with
// latency measured from when each call was due (no coordinated omission);
// --report-calls N times each report (step 5).
// deploy/bench.sh adds the restart and rebuild steps, which need to own the
// server process.

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leadflow/base/derived_id.h"
#include "leadflow/tls/grpc_tls.h"
#include "leadflow/v1/reports.grpc.pb.h"
#include "leadflow/v1/service.grpc.pb.h"

namespace {

using namespace leadflow;  // NOLINT: the binary's own wiring

struct Options {
  std::string token_file;
  std::string target = "127.0.0.1:50051";
  int events = 20000;
  int batch = 500;
  int publishers = 2;
  int commands = 2000;
  int mixed_ops = 4000;
  int mixed_clients = 4;
  int leads = 0;
  int read_qps = 0;
  int read_seconds = 10;
  int read_clients = 8;
  int read_after_seconds = 0;
  int report_calls = 0;
  uint64_t seed = 42;
  std::string run_id;
};

v1::ChannelEvent MakeEvent(int person, const std::string& id) {
  v1::ChannelEvent event;
  event.set_id(id);
  event.set_source("bench");
  const std::string phone = absl::StrCat("+7916", 1000000 + person);
  switch (person % 4) {
    case 0: {
      auto* call = event.mutable_call();
      call->set_kind(v1::CALL_KIND_INCOMING);
      call->set_customer_phone(phone);
      call->set_operator_id(absl::StrCat("op-", person % 20));
      call->set_duration_seconds(60);
      break;
    }
    case 1: {
      auto* form = event.mutable_web_form();
      form->set_form_id("pricing");
      (*form->mutable_fields())["phone"] = phone;
      (*form->mutable_fields())["name"] = "Bench Person";
      form->mutable_utm()->set_source("bench");
      break;
    }
    case 2: {
      auto* email = event.mutable_email();
      email->set_from_address(absl::StrCat("p", person, "@bench.example"));
      email->set_subject("Price request");
      email->set_body("Please send the price list.");
      break;
    }
    default: {
      auto* chat = event.mutable_chat_message();
      chat->set_channel("telegram");
      chat->set_handle(absl::StrCat("@p", person));
      chat->set_text("hello");
      break;
    }
  }
  return event;
}

// Work outstanding: lag, plus partitions no processor holds yet (on Kafka,
// while the consumer group forms), whose lag is not counted. -1 when the
// server cannot be reached.
int64_t Outstanding(v1::AdminService::Stub& admin) {
  v1::ServerStatus status;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!admin.GetServerStatus(&ctx, {}, &status).ok()) return -1;
  return status.total_lag() + status.unowned_partitions();
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

// The kinds of operation of the mixed workload, in the proportions they
// are drawn: status changes 40%, activity plans 20%, activity completions
// 20%, conversions 10%, intake batches of 20 events 10%.
enum class MixedOp { kStatus, kPlan, kComplete, kConvert, kIntake };
MixedOp MixedOpFor(int i) {
  switch (i % 10) {
    case 0:
    case 1:
    case 2:
    case 3:
      return MixedOp::kStatus;
    case 4:
    case 5:
      return MixedOp::kPlan;
    case 6:
    case 7:
      return MixedOp::kComplete;
    case 8:
      return MixedOp::kConvert;
    default:
      return MixedOp::kIntake;
  }
}
const char* MixedOpName(MixedOp op) {
  switch (op) {
    case MixedOp::kStatus:
      return "ChangeLeadStatus";
    case MixedOp::kPlan:
      return "PlanActivity";
    case MixedOp::kComplete:
      return "CompleteActivity";
    case MixedOp::kConvert:
      return "ConvertLead";
    case MixedOp::kIntake:
      return "PublishChannelEvents(20)";
  }
  return "";
}

// Step 3. Each client works on its own leads, so no operation is refused
// for racing another client. Returns the number of failed operations.
int RunMixed(const Options& options, const std::shared_ptr<grpc::Channel>& channel,
             v1::AdminService::Stub& admin, const std::string& run) {
  auto lister = v1::LeadService::NewStub(channel);
  std::vector<std::string> pool;  // NEW leads
  v1::ListLeadsRequest list;
  list.set_page_size(1000);
  list.set_status_id("NEW");
  while (static_cast<int>(pool.size()) < options.mixed_ops) {
    v1::ListLeadsResponse page;
    grpc::ClientContext ctx;
    if (!lister->ListLeads(&ctx, list, &page).ok()) break;
    for (const auto& lead : page.leads()) pool.push_back(lead.name());
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  const int clients = options.mixed_clients;
  if (static_cast<int>(pool.size()) < clients * 10) {
    std::fprintf(stderr, "leadflow-bench: %zu NEW leads is too few for the mixed workload\n",
                 pool.size());
    return 1;
  }
  std::mutex mu;
  std::map<MixedOp, std::vector<double>> latencies;
  std::atomic<int> errors{0};
  std::atomic<int> next{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto leads = v1::LeadService::NewStub(channel);
      auto crm = v1::CrmService::NewStub(channel);
      auto intake = v1::IntakeService::NewStub(channel);
      // This client's leads: every clients-th of the pool. Conversions take
      // them from the back, status changes and activities from the front.
      std::vector<std::string> mine;
      for (size_t i = c; i < pool.size(); i += clients) mine.push_back(pool[i]);
      size_t converted = 0;
      std::vector<std::string> planned;
      int local = 0;
      for (int i = next.fetch_add(1); i < options.mixed_ops; i = next.fetch_add(1), ++local) {
        MixedOp op = MixedOpFor(i);
        if (op == MixedOp::kComplete && planned.empty()) op = MixedOp::kPlan;
        const size_t open = mine.size() - converted;
        if (op == MixedOp::kConvert && open <= mine.size() / 2) op = MixedOp::kStatus;
        const std::string& lead = mine[local % (mine.size() / 2)];
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        grpc::Status status;
        const absl::Time t0 = absl::Now();
        switch (op) {
          case MixedOp::kStatus: {
            v1::ChangeLeadStatusRequest request;
            request.set_name(lead);
            request.set_status_id(local % 2 == 0 ? "IN_PROCESS" : "PROCESSED");
            v1::LeadCommandResponse response;
            status = leads->ChangeLeadStatus(&ctx, request, &response);
            break;
          }
          case MixedOp::kPlan: {
            v1::PlanActivityRequest request;
            request.set_activity_id(absl::StrCat("bench-", run, "-", c, "-", i));
            auto* activity = request.mutable_activity();
            activity->set_type(v1::ACTIVITY_TYPE_CALL);
            activity->set_subject("Call back");
            activity->set_owner(lead);
            activity->set_responsible_id(absl::StrCat("op-", c));
            activity->mutable_deadline()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 3600);
            v1::ItemCommandResponse response;
            status = crm->PlanActivity(&ctx, request, &response);
            if (status.ok()) planned.push_back(response.item().activity().name());
            break;
          }
          case MixedOp::kComplete: {
            v1::CompleteActivityRequest request;
            request.set_name(planned.back());
            planned.pop_back();
            request.set_result("reached");
            v1::ItemCommandResponse response;
            status = crm->CompleteActivity(&ctx, request, &response);
            break;
          }
          case MixedOp::kConvert: {
            v1::ConvertLeadRequest request;
            request.set_name(mine[mine.size() - 1 - converted++]);
            v1::LeadCommandResponse response;
            status = leads->ConvertLead(&ctx, request, &response);
            break;
          }
          case MixedOp::kIntake: {
            v1::PublishChannelEventsRequest request;
            for (int k = 0; k < 20; ++k) {
              *request.add_events() = MakeEvent(1000000 + i * 20 + k,
                                                absl::StrCat("bench-", run, "-mixed-", i, "-", k));
            }
            v1::PublishChannelEventsResponse response;
            status = intake->PublishChannelEvents(&ctx, request, &response);
            break;
          }
        }
        const double ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
        if (!status.ok()) {
          if (errors++ < 5) {
            std::fprintf(stderr, "leadflow-bench: %s: %s\n", MixedOpName(op),
                         status.error_message().c_str());
          }
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        latencies[op].push_back(ms);
      }
    });
  }
  for (auto& t : threads) t.join();
  const absl::Time done = absl::Now();
  while (Outstanding(admin) != 0) absl::SleepFor(absl::Milliseconds(5));
  const absl::Time settled = absl::Now();
  std::printf("mixed: %d operations from %d clients in %.2fs, settled after %.2fs: %.0f ops/s\n",
              options.mixed_ops, clients, absl::ToDoubleSeconds(done - start),
              absl::ToDoubleSeconds(settled - start),
              options.mixed_ops / absl::ToDoubleSeconds(settled - start));
  for (const auto& [op, values] : latencies) {
    std::printf("mixed: %-26s %5zu calls, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", MixedOpName(op),
                values.size(), Percentile(values, 0.50), Percentile(values, 0.99),
                Percentile(values, 1.0));
  }
  std::printf("mixed: %d errors\n", errors.load());
  return errors.load();
}

// The lead a channel event of a person not seen before creates.
std::string LeadNameOf(const std::string& event_id) {
  return absl::StrCat("leads/", DeriveId("ld", event_id));
}

// Publishes `events` in batches from `publishers` clients; returns the
// number of failed calls.
int PublishAll(const std::shared_ptr<grpc::Channel>& channel,
               const std::vector<v1::ChannelEvent>& events, int batch, int publishers) {
  std::atomic<size_t> next{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < publishers; ++t) {
    threads.emplace_back([&] {
      auto intake = v1::IntakeService::NewStub(channel);
      for (;;) {
        const size_t from = next.fetch_add(batch);
        if (from >= events.size()) break;
        v1::PublishChannelEventsRequest request;
        for (size_t i = from; i < std::min(events.size(), from + batch); ++i) {
          *request.add_events() = events[i];
        }
        v1::PublishChannelEventsResponse response;
        grpc::ClientContext ctx;
        grpc::Status status = intake->PublishChannelEvents(&ctx, request, &response);
        if (!status.ok() && errors++ < 5) {
          std::fprintf(stderr, "leadflow-bench: publish: %s\n", status.error_message().c_str());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return errors.load();
}

// Step 1. Returns the number of failures (publish errors, invalid events
// not refused).
int RunIntake(const Options& options, const std::shared_ptr<grpc::Channel>& channel,
              v1::AdminService::Stub& admin, const std::string& run) {
  // Build the workload.
  absl::BitGen gen(std::seed_seq{options.seed});
  std::vector<v1::ChannelEvent> valid;
  std::vector<v1::ChannelEvent> invalid;
  int people = 0;
  for (int i = 0; i < options.events; ++i) {
    const std::string id = absl::StrCat("bench-", run, "-", i);
    if (absl::Bernoulli(gen, 0.02)) {
      v1::ChannelEvent bad = MakeEvent(0, id);
      bad.clear_payload();
      bad.mutable_call()->set_kind(v1::CALL_KIND_MISSED);
      bad.mutable_call()->set_customer_phone("12-34");
      invalid.push_back(std::move(bad));
    } else if (people > 0 && absl::Bernoulli(gen, 0.30)) {
      valid.push_back(MakeEvent(absl::Uniform(gen, 0, people), id));
    } else {
      valid.push_back(MakeEvent(people++, id));
    }
  }
  // People are numbered per run so repeated runs against one server create
  // new leads, except for the repeats within the run.
  std::printf("workload: %zu valid events (%d people), %zu invalid\n", valid.size(), people,
              invalid.size());

  const absl::Time start = absl::Now();
  int publish_errors = 0;
  std::thread publishing(
      [&] { publish_errors = PublishAll(channel, valid, options.batch, options.publishers); });
  int refused = 0;
  {
    auto intake = v1::IntakeService::NewStub(channel);
    for (const auto& event : invalid) {
      v1::PublishChannelEventRequest request;
      *request.mutable_event() = event;
      v1::PublishChannelEventResponse response;
      grpc::ClientContext ctx;
      if (intake->PublishChannelEvent(&ctx, request, &response).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT) {
        ++refused;
      }
    }
  }
  publishing.join();
  const absl::Time published = absl::Now();
  while (Outstanding(admin) != 0) absl::SleepFor(absl::Milliseconds(5));
  const absl::Time projected = absl::Now();
  const double seconds = absl::ToDoubleSeconds(projected - start);
  std::printf("intake: %zu events published in %.2fs, all projected after %.2fs\n", valid.size(),
              absl::ToDoubleSeconds(published - start), seconds);
  std::printf(
      "intake: %.0f events/s end to end (publish -> lead commands -> events -> read model)\n",
      static_cast<double>(valid.size()) / seconds);
  std::printf("intake: %d of %zu invalid events refused; %d publish errors\n", refused,
              invalid.size(), publish_errors);

  return publish_errors + static_cast<int>(invalid.size()) - refused;
}

// Step 2. Returns the number of failed commands.
int RunCommands(const Options& options, const std::shared_ptr<grpc::Channel>& channel) {
  // Command latency over gRPC.
  auto leads = v1::LeadService::NewStub(channel);
  v1::ListLeadsRequest list;
  list.set_page_size(200);
  list.set_status_id("NEW");
  v1::ListLeadsResponse page;
  {
    grpc::ClientContext ctx;
    if (!leads->ListLeads(&ctx, list, &page).ok() || page.leads_size() == 0) {
      std::fprintf(stderr, "leadflow-bench: no leads to command\n");
      return 1;
    }
  }
  std::vector<double> latencies_ms;
  int command_errors = 0;
  for (int i = 0; i < options.commands; ++i) {
    v1::AssignLeadRequest assign;
    assign.set_name(page.leads(i % page.leads_size()).name());
    assign.set_responsible_id(absl::StrCat("bench-user-", i));
    v1::LeadCommandResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const absl::Time t0 = absl::Now();
    grpc::Status status = leads->AssignLead(&ctx, assign, &response);
    latencies_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    if (!status.ok()) ++command_errors;
  }
  std::printf("commands: %d AssignLead calls, p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d errors\n",
              options.commands, Percentile(latencies_ms, 0.50), Percentile(latencies_ms, 0.99),
              Percentile(latencies_ms, 1.0), command_errors);
  return command_errors;
}

// Step 0: `options.leads` leads of people not seen before, in batches of 1000.
// Returns the leads' names (empty on failure).
std::vector<std::string> LoadLeads(const Options& options,
                                   const std::shared_ptr<grpc::Channel>& channel,
                                   v1::AdminService::Stub& admin, const std::string& run) {
  std::vector<v1::ChannelEvent> events;
  std::vector<std::string> names;
  events.reserve(options.leads);
  names.reserve(options.leads);
  // People numbered from 3,000,000 up: apart from step 1's and the mixed
  // workload's people.
  for (int i = 0; i < options.leads; ++i) {
    const std::string id = absl::StrCat("bench-", run, "-load-", i);
    events.push_back(MakeEvent(3000000 + i, id));
    names.push_back(LeadNameOf(id));
  }
  const absl::Time start = absl::Now();
  const int errors = PublishAll(channel, events, 1000, options.publishers);
  const absl::Time published = absl::Now();
  while (Outstanding(admin) != 0) absl::SleepFor(absl::Milliseconds(20));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("load: %d leads published in %.2fs, all projected after %.2fs: %.0f events/s\n",
              options.leads, absl::ToDoubleSeconds(published - start), seconds,
              options.leads / seconds);
  if (errors > 0) {
    std::fprintf(stderr, "leadflow-bench: %d load batches failed\n", errors);
    return {};
  }
  return names;
}

// Step 4: GetLead (80%) and ListLeads filtered by status and source, 50 a
// page (20%), at `read_qps` calls per second in all from `read_clients`
// clients, each call due at a fixed time; latency counts from when the call
// was due, so a stalled server cannot hide behind a waiting client.
int RunReads(const Options& options, const std::shared_ptr<grpc::Channel>& channel,
             std::vector<std::string> names) {
  // Without step 0, the first leads the server lists. (Step 1's names cannot
  // be told from its event ids: its two publishers may deliver a person's
  // repeat before their first event, and the repeat then makes the lead.)
  auto lister = v1::LeadService::NewStub(channel);
  v1::ListLeadsRequest list;
  list.set_page_size(1000);
  while (names.empty() || (names.size() < 10000 && !list.page_token().empty())) {
    v1::ListLeadsResponse page;
    grpc::ClientContext ctx;
    if (!lister->ListLeads(&ctx, list, &page).ok()) break;
    for (const auto& lead : page.leads()) names.push_back(lead.name());
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  if (names.empty()) {
    std::fprintf(stderr, "leadflow-bench: no leads to read\n");
    return 1;
  }
  // After a bulk load the store compacts for a while on the same cores:
  // --read-after-seconds measures reads once that has settled.
  if (options.read_after_seconds > 0) absl::SleepFor(absl::Seconds(options.read_after_seconds));
  const int clients = options.read_clients;
  const absl::Duration interval = absl::Seconds(1) * clients / options.read_qps;
  const int per_client = options.read_qps * options.read_seconds / clients;
  const v1::LeadSource sources[] = {v1::LEAD_SOURCE_CALL, v1::LEAD_SOURCE_WEB_FORM,
                                    v1::LEAD_SOURCE_EMAIL, v1::LEAD_SOURCE_CHAT};
  std::mutex mu;
  std::vector<double> get_ms;
  std::vector<double> list_ms;
  std::atomic<int> errors{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto leads = v1::LeadService::NewStub(channel);
      absl::BitGen gen(std::seed_seq{options.seed, static_cast<uint64_t>(c)});
      std::vector<double> gets;
      std::vector<double> lists;
      // Clients start spread over one interval.
      absl::Time due = start + interval * c / clients;
      for (int i = 0; i < per_client; ++i, due += interval) {
        const absl::Time now = absl::Now();
        if (due > now) absl::SleepFor(due - now);
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        grpc::Status status;
        const bool listing = i % 5 == 4;
        if (listing) {
          v1::ListLeadsRequest request;
          request.set_page_size(50);
          request.set_status_id("NEW");
          request.set_source(sources[absl::Uniform(gen, 0, 4)]);
          v1::ListLeadsResponse response;
          status = leads->ListLeads(&ctx, request, &response);
        } else {
          v1::GetLeadRequest request;
          request.set_name(names[absl::Uniform<size_t>(gen, 0, names.size())]);
          v1::Lead response;
          status = leads->GetLead(&ctx, request, &response);
        }
        const double ms = absl::ToDoubleMilliseconds(absl::Now() - due);
        if (!status.ok()) {
          if (errors++ < 5) {
            std::fprintf(stderr, "leadflow-bench: read: %s\n", status.error_message().c_str());
          }
          continue;
        }
        (listing ? lists : gets).push_back(ms);
      }
      std::lock_guard<std::mutex> lock(mu);
      get_ms.insert(get_ms.end(), gets.begin(), gets.end());
      list_ms.insert(list_ms.end(), lists.begin(), lists.end());
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf(
      "reads: %zu calls in %.2fs from %d clients: %.0f calls/s (asked %d/s) over %zu leads\n",
      get_ms.size() + list_ms.size(), seconds, clients, (get_ms.size() + list_ms.size()) / seconds,
      options.read_qps, names.size());
  std::printf("reads: %-26s %6zu calls, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", "GetLead",
              get_ms.size(), Percentile(get_ms, 0.50), Percentile(get_ms, 0.99),
              Percentile(get_ms, 1.0));
  std::printf("reads: %-26s %6zu calls, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              "ListLeads(status,source,50)", list_ms.size(), Percentile(list_ms, 0.50),
              Percentile(list_ms, 0.99), Percentile(list_ms, 1.0));
  std::printf("reads: %d errors\n", errors.load());
  return errors.load();
}

// Step 5: each report `report_calls` times, one call after another, over
// the current month (UTC) by day: p50 / p99 / max per report.
int RunReports(const Options& options, const std::shared_ptr<grpc::Channel>& channel) {
  auto reports = v1::ReportService::NewStub(channel);
  v1::ReportRequest request;
  const absl::CivilMonth month(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()));
  request.mutable_from_time()->set_seconds(
      absl::ToUnixSeconds(absl::FromCivil(month, absl::UTCTimeZone())));
  request.mutable_to_time()->set_seconds(
      absl::ToUnixSeconds(absl::FromCivil(month + 1, absl::UTCTimeZone())));
  request.set_time_zone("UTC");
  request.set_group_by(v1::REPORT_PERIOD_DAY);
  int errors = 0;
  auto time = [&](const char* name, auto call) {
    std::vector<double> ms;
    for (int i = 0; i < options.report_calls; ++i) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      const absl::Time start = absl::Now();
      grpc::Status status = call(&ctx);
      if (!status.ok()) {
        if (errors++ < 5) {
          std::fprintf(stderr, "leadflow-bench: %s: %s\n", name, status.error_message().c_str());
        }
        continue;
      }
      ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    }
    std::printf("reports: %-26s %6zu calls, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", name,
                ms.size(), Percentile(ms, 0.50), Percentile(ms, 0.99), Percentile(ms, 1.0));
  };
  time("GetFunnelReport(by day)", [&](grpc::ClientContext* ctx) {
    v1::FunnelReport response;
    return reports->GetFunnelReport(ctx, request, &response);
  });
  time("GetSourceReport(by day)", [&](grpc::ClientContext* ctx) {
    v1::SourceReport response;
    return reports->GetSourceReport(ctx, request, &response);
  });
  time("GetManagerReport(by day)", [&](grpc::ClientContext* ctx) {
    v1::ManagerReport response;
    return reports->GetManagerReport(ctx, request, &response);
  });
  time("GetFirstContactReport(by day)", [&](grpc::ClientContext* ctx) {
    v1::FirstContactReport response;
    return reports->GetFirstContactReport(ctx, request, &response);
  });
  std::printf("reports: %d errors\n", errors);
  return errors;
}

int Run(const Options& options) {
  std::string token;
  if (!options.token_file.empty()) {
    std::ifstream in(options.token_file);
    std::getline(in, token);
    if (token.empty()) {
      std::fprintf(stderr, "leadflow-bench: --token-file %s: no credential there\n",
                   options.token_file.c_str());
      return 2;
    }
  }
  auto made = tls::ChannelTo(options.target, {}, token);
  if (!made.ok()) {
    std::fprintf(stderr, "leadflow-bench: %s\n", made.status().ToString().c_str());
    return 2;
  }
  std::shared_ptr<grpc::Channel> channel = *std::move(made);
  auto admin = v1::AdminService::NewStub(channel);
  if (Outstanding(*admin) < 0) {
    std::fprintf(stderr, "leadflow-bench: no leadflowd at %s\n", options.target.c_str());
    return 1;
  }
  // The clock starts once the server holds its partitions.
  while (Outstanding(*admin) != 0) absl::SleepFor(absl::Milliseconds(20));
  const std::string run =
      options.run_id.empty() ? absl::StrCat(absl::ToUnixMillis(absl::Now())) : options.run_id;
  std::vector<std::string> names;  // step 0's leads, read in step 4
  if (options.leads > 0) {
    names = LoadLeads(options, channel, *admin, run);
    if (names.empty()) return 1;
  }
  int failures = 0;
  if (options.events > 0) failures += RunIntake(options, channel, *admin, run);
  if (options.commands > 0) failures += RunCommands(options, channel);
  if (options.mixed_ops > 0) failures += RunMixed(options, channel, *admin, run);
  if (options.read_qps > 0) failures += RunReads(options, channel, std::move(names));
  if (options.report_calls > 0) failures += RunReports(options, channel);
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"leadflow-bench: throughput and latency of a running leadflowd"};
  app.add_option("--target", options.target, "leadflowd address")->capture_default_str();
  app.add_option("--token-file", options.token_file,
                 "File whose first line is the credential (leadflowd's admin.key)")
      ->envname("LEADFLOW_TOKEN_FILE");
  app.add_option("--events", options.events, "Step 1: channel events to publish (0: skip)")
      ->capture_default_str();
  app.add_option("--batch", options.batch, "Events per PublishChannelEvents call")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--publishers", options.publishers, "Concurrent publishing clients")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--commands", options.commands, "Step 2: AssignLead calls to time (0: skip)")
      ->capture_default_str();
  app.add_option("--mixed-ops", options.mixed_ops, "Operations of the mixed workload (0: skip it)")
      ->capture_default_str();
  app.add_option("--mixed-clients", options.mixed_clients,
                 "Concurrent clients of the mixed workload")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--leads", options.leads,
                 "Step 0: load this many leads of distinct people first (0: skip)")
      ->capture_default_str();
  app.add_option("--read-qps", options.read_qps,
                 "Step 4: GetLead and filtered ListLeads calls per second (0: skip)")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--read-seconds", options.read_seconds, "How long step 4 runs")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--read-after-seconds", options.read_after_seconds,
                 "Wait this long before step 4 (let compaction after a load settle)")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  app.add_option("--read-clients", options.read_clients, "Concurrent clients of step 4")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--report-calls", options.report_calls,
                 "Step 5: call each report this many times, over this month by day (0: skip)")
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Workload seed")->capture_default_str();
  app.add_option("--run-id", options.run_id, "Event id prefix (default: the current time)");
  CLI11_PARSE(app, argc, argv);
  return Run(options);
}
