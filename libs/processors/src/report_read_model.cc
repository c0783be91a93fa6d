#include "leadflow/processors/report_read_model.h"

#include "absl/strings/str_cat.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"

namespace leadflow::processors {
namespace {

constexpr store::Keyspace kViews = store::Keyspace::kViews;

std::string LeadFactKey(absl::string_view lead_id) {
  return absl::StrCat("report-fact/lead/", lead_id);
}
std::string DealFactKey(absl::string_view deal_id) {
  return absl::StrCat("report-fact/deal/", deal_id);
}

// Reads the fact under `key`, lets `change` change a copy, and when its
// bytes differ takes the old fact's contribution out of `cells`, adds the
// new one, and writes it. Facts are stored deterministically serialized, so
// equal bytes mean an equal fact.
template <typename Fact, typename Change>
absl::Status StageFact(ProcessorTransaction& txn, const std::string& key, Change change,
                       domain::ReportCells& cells) {
  Fact fact;
  LEADFLOW_ASSIGN_OR_RETURN(auto stored, txn.Get(kViews, key));
  if (stored.has_value()) LEADFLOW_RETURN_IF_ERROR(ParseProto(*stored, &fact, "report fact"));
  Fact next = fact;
  change(next);
  std::string after = SerializeDeterministic(next);
  if (after == stored.value_or("")) return absl::OkStatus();
  domain::AddReportContribution(fact, -1, cells);
  domain::AddReportContribution(next, +1, cells);
  txn.Put(kViews, key, after);
  return absl::OkStatus();
}

}  // namespace

void ReportReadModel::Begin() { pending_.clear(); }

absl::Status ReportReadModel::StageLead(ProcessorTransaction& txn, const v1::EventEnvelope& event,
                                        const v1::Lead& after) {
  return StageFact<storage::v1::LeadReportFact>(
      txn, LeadFactKey(after.lead_id()),
      [&](storage::v1::LeadReportFact& fact) { domain::FoldLeadFact(event, after, fact); },
      pending_);
}

absl::Status ReportReadModel::StageDeal(ProcessorTransaction& txn, const v1::Deal& after) {
  return StageFact<storage::v1::DealReportFact>(
      txn, DealFactKey(after.deal_id()),
      [&](storage::v1::DealReportFact& fact) { domain::FoldDealFact(after, fact); }, pending_);
}

absl::Status ReportReadModel::StageActivity(ProcessorTransaction& txn, const v1::Activity* before,
                                            const v1::Activity& after) {
  if (before != nullptr) domain::AddReportContribution(*before, -1, pending_);
  domain::AddReportContribution(after, +1, pending_);
  auto contact = domain::LeadContactOf(after);
  if (!contact.has_value() || (before != nullptr && domain::LeadContactOf(*before).has_value())) {
    return absl::OkStatus();
  }
  // The lead may be on a partition not applied this far yet: its facts
  // then start with this contact, and its own events fill in the rest.
  return StageFact<storage::v1::LeadReportFact>(
      txn, LeadFactKey(contact->first),
      [&](storage::v1::LeadReportFact& fact) {
        if (!fact.has_activity_contact_time() || contact->second < fact.activity_contact_time()) {
          fact.set_activity_contact_time(contact->second);
        }
      },
      pending_);
}

absl::Status ReportReadModel::Flush(ProcessorTransaction& txn) {
  for (auto& [key, delta] : pending_) {
    if (domain::IsZeroReportCell(delta)) continue;
    storage::v1::ReportCell cell;
    LEADFLOW_ASSIGN_OR_RETURN(auto stored, txn.Get(kViews, key));
    if (stored.has_value()) LEADFLOW_RETURN_IF_ERROR(ParseProto(*stored, &cell, "report cell"));
    domain::AddReportCell(delta, cell);
    if (domain::IsZeroReportCell(cell)) {
      txn.Delete(kViews, key);
    } else {
      txn.Put(kViews, key, SerializeDeterministic(cell));
    }
  }
  pending_.clear();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<domain::ReportCellView>> ReportReadModel::Cells(char family,
                                                                           absl::Time from,
                                                                           absl::Time to) const {
  std::vector<domain::ReportCellView> cells;
  const std::string end = domain::ReportCellStart(family, domain::ReportBucketOf(to));
  absl::Status failed = absl::OkStatus();
  LEADFLOW_RETURN_IF_ERROR(db_->Scan(kViews, domain::ReportCellPrefix(family),
                                     domain::ReportCellStart(family, domain::ReportBucketOf(from)),
                                     [&](absl::string_view key, absl::string_view value) {
                                       if (key >= end) return false;
                                       auto parts = domain::ParseReportCellKey(key);
                                       if (!parts.ok()) {
                                         failed = parts.status();
                                         return false;
                                       }
                                       domain::ReportCellView view{*std::move(parts), {}};
                                       failed = ParseProto(value, &view.cell, "report cell");
                                       if (!failed.ok()) return false;
                                       cells.push_back(std::move(view));
                                       return true;
                                     }));
  LEADFLOW_RETURN_IF_ERROR(failed);
  return cells;
}

}  // namespace leadflow::processors
