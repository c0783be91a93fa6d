#include "leadflow/http/web_form_post.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "leadflow/base/derived_id.h"
#include "leadflow/base/proto_util.h"

namespace leadflow::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> Decode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      const int high = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
      const int low = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("broken %-escape in '", text.substr(0, 100), "'"));
      }
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

bool IsReserved(absl::string_view name) {
  return name == "event_id" || name == "page_url" || name == "api_key" ||
         absl::StartsWith(name, "utm_");
}

}  // namespace

absl::StatusOr<Params> ParseUrlEncoded(absl::string_view text) {
  Params params;
  for (absl::string_view pair : absl::StrSplit(text, '&', absl::SkipEmpty())) {
    const size_t eq = pair.find('=');
    absl::StatusOr<std::string> name = Decode(pair.substr(0, eq));
    if (!name.ok()) return name.status();
    if (name->empty()) {
      return absl::InvalidArgumentError(absl::StrCat("a field without a name: '", pair, "'"));
    }
    std::string value;
    if (eq != absl::string_view::npos) {
      absl::StatusOr<std::string> decoded = Decode(pair.substr(eq + 1));
      if (!decoded.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(*name, ": ", decoded.status().message()));
      }
      value = *std::move(decoded);
    }
    params.emplace_back(*std::move(name), std::move(value));
  }
  return params;
}

absl::StatusOr<v1::ChannelEvent> WebFormEvent(const FormPost& post) {
  if (post.form_id.empty()) return absl::InvalidArgumentError("web_form.form_id: required");
  v1::ChannelEvent event;
  v1::WebForm* form = event.mutable_web_form();
  form->set_form_id(post.form_id);
  event.set_source(absl::StrCat("http/forms/", post.form_id));
  *event.mutable_occur_time() = ToTimestamp(post.received);
  std::string event_id = post.idempotency_key;
  std::string page_url = post.referer;
  v1::UtmTags* utm = form->mutable_utm();
  auto set_utm = [&](absl::string_view name, const std::string& value) {
    if (name == "utm_source") utm->set_source(value);
    if (name == "utm_medium") utm->set_medium(value);
    if (name == "utm_campaign") utm->set_campaign(value);
    if (name == "utm_content") utm->set_content(value);
    if (name == "utm_term") utm->set_term(value);
  };
  // The query string first, so that hidden fields override it.
  for (const auto& [name, value] : post.query) set_utm(name, value);
  std::string identity = post.form_id;
  for (const auto& [name, value] : post.fields) {
    if (name == "event_id") {
      if (event_id.empty()) event_id = value;
    } else if (name == "page_url") {
      page_url = value;
    } else if (absl::StartsWith(name, "utm_")) {
      set_utm(name, value);
    }
    if (IsReserved(name)) continue;
    if (form->fields().contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("web_form.fields[\"", name, "\"]: given more than once"));
    }
    (*form->mutable_fields())[name] = value;
    absl::StrAppend(&identity, "\n", name, "=", value);
  }
  form->set_page_url(page_url);
  event.set_id(event_id.empty() ? DeriveId("web-form-post", identity) : event_id);
  return event;
}

}  // namespace leadflow::http
