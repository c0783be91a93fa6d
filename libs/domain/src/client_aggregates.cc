// Contacts and companies: the clients a lead converts into.

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "aggregates.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"

namespace leadflow::domain {
namespace {

template <typename Item>
absl::Status NormalizeClient(Item* item, absl::string_view prefix, const DomainConfig& config) {
  LEADFLOW_RETURN_IF_ERROR(NormalizeContactPoints(item->mutable_phones(), item->mutable_emails(),
                                                  item->messengers(), prefix, config));
  return CheckResponsible(item->responsible_id(), absl::StrCat(prefix, "responsible_id"));
}

template <typename Item>
void SetIdentityKeys(Item& item) {
  item.clear_identity_keys();
  for (auto& key : IdentityKeys(item.phones(), item.emails(), item.messengers())) {
    item.add_identity_keys(std::move(key));
  }
}

void ClearOutputOnly(v1::Contact* contact) {
  contact->clear_name();
  contact->clear_contact_id();
  contact->clear_version();
  contact->clear_identity_keys();
  contact->clear_create_time();
  contact->clear_update_time();
}

void ClearOutputOnly(v1::Company* company) {
  company->clear_name();
  company->clear_company_id();
  company->clear_version();
  company->clear_identity_keys();
  company->clear_create_time();
  company->clear_update_time();
}

absl::Status CheckCompanyIds(const v1::Contact& contact, absl::string_view prefix) {
  for (int i = 0; i < contact.company_ids_size(); ++i) {
    LEADFLOW_RETURN_IF_ERROR(
        CheckAggregateId(contact.company_ids(i), absl::StrCat(prefix, "company_ids[", i, "]")));
  }
  return absl::OkStatus();
}

constexpr std::initializer_list<absl::string_view> kContactUpdatable = {
    "first_name", "last_name",   "second_name", "phones",         "emails",
    "messengers", "company_ids", "requisites",  "responsible_id", "comments"};
constexpr std::initializer_list<absl::string_view> kCompanyUpdatable = {
    "title", "phones", "emails", "messengers", "requisites", "responsible_id", "comments"};

}  // namespace

absl::Status DecideContactCommand(const v1::Contact* current, const v1::Command& command,
                                  const DomainConfig& config, EventSink& sink) {
  if (command.has_create_contact()) {
    v1::Contact contact = command.create_contact().contact();
    ClearOutputOnly(&contact);
    LEADFLOW_RETURN_IF_ERROR(NormalizeClient(&contact, "contact.", config));
    LEADFLOW_RETURN_IF_ERROR(CheckCompanyIds(contact, "contact."));
    if (absl::StripAsciiWhitespace(
            absl::StrCat(contact.first_name(), contact.last_name(), contact.second_name()))
            .empty() &&
        contact.phones_size() == 0 && contact.emails_size() == 0 &&
        contact.messengers_size() == 0) {
      return InvalidField("contact.first_name",
                          "a contact needs a name, a phone, an email or a messenger handle");
    }
    contact.set_contact_id(command.aggregate_id());
    contact.set_name(ResourceName("contact", command.aggregate_id()));
    SetIdentityKeys(contact);
    *sink.Add().mutable_contact_created()->mutable_contact() = std::move(contact);
    return absl::OkStatus();
  }
  if (command.has_update_contact()) {
    const auto& update = command.update_contact();
    LEADFLOW_RETURN_IF_ERROR(CheckUpdateMask(update.update_mask(), kContactUpdatable));
    v1::Contact changes;
    MergeMasked(update.contact(), update.update_mask(), &changes);
    LEADFLOW_RETURN_IF_ERROR(NormalizeClient(&changes, "contact.", config));
    LEADFLOW_RETURN_IF_ERROR(CheckCompanyIds(changes, "contact."));
    auto* updated = sink.Add().mutable_contact_updated();
    *updated->mutable_contact() = std::move(changes);
    *updated->mutable_update_mask() = update.update_mask();
    return absl::OkStatus();
  }
  return InvalidField("command", "not a contact command");
}

void EvolveContactState(v1::Contact& contact, const v1::EventEnvelope& event) {
  if (event.has_contact_created()) {
    contact = event.contact_created().contact();
    *contact.mutable_create_time() = event.occur_time();
  } else if (event.has_contact_updated()) {
    MergeMasked(event.contact_updated().contact(), event.contact_updated().update_mask(), &contact);
    SetIdentityKeys(contact);
  }
  contact.set_version(event.aggregate_version());
  *contact.mutable_update_time() = event.occur_time();
}

absl::Status DecideCompanyCommand(const v1::Company* current, const v1::Command& command,
                                  const DomainConfig& config, EventSink& sink) {
  if (command.has_create_company()) {
    v1::Company company = command.create_company().company();
    ClearOutputOnly(&company);
    LEADFLOW_RETURN_IF_ERROR(NormalizeClient(&company, "company.", config));
    if (absl::StripAsciiWhitespace(company.title()).empty()) {
      return InvalidField("company.title", "required");
    }
    company.set_company_id(command.aggregate_id());
    company.set_name(ResourceName("company", command.aggregate_id()));
    SetIdentityKeys(company);
    *sink.Add().mutable_company_created()->mutable_company() = std::move(company);
    return absl::OkStatus();
  }
  if (command.has_update_company()) {
    const auto& update = command.update_company();
    LEADFLOW_RETURN_IF_ERROR(CheckUpdateMask(update.update_mask(), kCompanyUpdatable));
    v1::Company changes;
    MergeMasked(update.company(), update.update_mask(), &changes);
    LEADFLOW_RETURN_IF_ERROR(NormalizeClient(&changes, "company.", config));
    for (const auto& path : update.update_mask().paths()) {
      if (path == "title" && absl::StripAsciiWhitespace(changes.title()).empty()) {
        return InvalidField("company.title", "required");
      }
    }
    auto* updated = sink.Add().mutable_company_updated();
    *updated->mutable_company() = std::move(changes);
    *updated->mutable_update_mask() = update.update_mask();
    return absl::OkStatus();
  }
  return InvalidField("command", "not a company command");
}

void EvolveCompanyState(v1::Company& company, const v1::EventEnvelope& event) {
  if (event.has_company_created()) {
    company = event.company_created().company();
    *company.mutable_create_time() = event.occur_time();
  } else if (event.has_company_updated()) {
    MergeMasked(event.company_updated().company(), event.company_updated().update_mask(), &company);
    SetIdentityKeys(company);
  }
  company.set_version(event.aggregate_version());
  *company.mutable_update_time() = event.occur_time();
}

}  // namespace leadflow::domain
