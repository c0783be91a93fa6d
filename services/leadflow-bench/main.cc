// leadflow-bench: end-to-end throughput and command latency of a running
// leadflowd.
//
// 1. Publishes N synthetic channel events (about 30% from people already
//    seen; calls, forms, emails and chats; about 2% invalid, sent one by one
//    and expected to be refused) in batches, and waits until every processor
//    has caught up: events per second from first publish to fully projected.
// 2. Times lead commands (AssignLead, each a real command with an event)
//    one after another: p50 / p99 / max latency.

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leadflow/v1/service.grpc.pb.h"

namespace {

using namespace leadflow;  // NOLINT: the binary's own wiring

struct Options {
  std::string target = "127.0.0.1:50051";
  int events = 20000;
  int batch = 500;
  int publishers = 2;
  int commands = 2000;
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

int Run(const Options& options) {
  auto channel = grpc::CreateChannel(options.target, grpc::InsecureChannelCredentials());
  auto admin = v1::AdminService::NewStub(channel);
  if (Outstanding(*admin) < 0) {
    std::fprintf(stderr, "leadflow-bench: no leadflowd at %s\n", options.target.c_str());
    return 1;
  }
  // The clock starts once the server holds its partitions.
  while (Outstanding(*admin) != 0) absl::SleepFor(absl::Milliseconds(20));
  const std::string run =
      options.run_id.empty() ? absl::StrCat(absl::ToUnixMillis(absl::Now())) : options.run_id;
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
  std::atomic<size_t> next{0};
  std::atomic<int> publish_errors{0};
  std::vector<std::thread> publishers;
  for (int t = 0; t < options.publishers; ++t) {
    publishers.emplace_back([&] {
      auto intake = v1::IntakeService::NewStub(channel);
      for (;;) {
        const size_t from = next.fetch_add(options.batch);
        if (from >= valid.size()) break;
        v1::PublishChannelEventsRequest request;
        for (size_t i = from; i < std::min(valid.size(), from + options.batch); ++i) {
          *request.add_events() = valid[i];
        }
        v1::PublishChannelEventsResponse response;
        grpc::ClientContext ctx;
        if (!intake->PublishChannelEvents(&ctx, request, &response).ok()) ++publish_errors;
      }
    });
  }
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
  for (auto& t : publishers) t.join();
  const absl::Time published = absl::Now();
  while (Outstanding(*admin) != 0) absl::SleepFor(absl::Milliseconds(5));
  const absl::Time projected = absl::Now();
  const double seconds = absl::ToDoubleSeconds(projected - start);
  std::printf("intake: %zu events published in %.2fs, all projected after %.2fs\n", valid.size(),
              absl::ToDoubleSeconds(published - start), seconds);
  std::printf(
      "intake: %.0f events/s end to end (publish -> lead commands -> events -> read model)\n",
      static_cast<double>(valid.size()) / seconds);
  std::printf("intake: %d of %zu invalid events refused; %d publish errors\n", refused,
              invalid.size(), publish_errors.load());

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
  return publish_errors == 0 && command_errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"leadflow-bench: throughput and latency of a running leadflowd"};
  app.add_option("--target", options.target, "leadflowd address")->capture_default_str();
  app.add_option("--events", options.events, "Channel events to publish")->capture_default_str();
  app.add_option("--batch", options.batch, "Events per PublishChannelEvents call")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--publishers", options.publishers, "Concurrent publishing clients")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--commands", options.commands, "Lead commands to time")->capture_default_str();
  app.add_option("--seed", options.seed, "Workload seed")->capture_default_str();
  app.add_option("--run-id", options.run_id, "Event id prefix (default: the current time)");
  CLI11_PARSE(app, argc, argv);
  return Run(options);
}
