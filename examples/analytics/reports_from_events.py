#!/usr/bin/env python3
"""The figures of leadflow's reports, computed from the event log alone.

An analytics consumer replays the domain events from offset 0 (`leadflow
events tail`, or the Kafka topic leadflow.events.v1 decoded with the shipped
descriptor set, e.g. protobuf's json_format.MessageToJson) and folds them as
docs/reports.md defines. Reads JSON lines (a SubscribedEvent with "event", or
a bare EventEnvelope) on stdin; prints one JSON object with the funnel of the
lead statuses, the yield per source, the figures per manager and the time to
first contact, for the leads created in [--from, --to).

    leadflow events tail | reports_from_events.py --from 2026-11-01T00:00:00+03:00 \\
        --to 2026-12-01T00:00:00+03:00

Only the standard library. Events of one aggregate are folded in version
order; aggregates are joined afterwards, so the order partitions arrive in
does not matter.
"""
import argparse
import collections
import datetime
import json
import statistics
import sys

SUCCESS = "STATUS_SEMANTIC_SUCCESS"
FAILURE = "STATUS_SEMANTIC_FAILURE"


def ts(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def lower_name(enum_value, prefix):
    if not enum_value or enum_value.endswith("_UNSPECIFIED"):
        return ""
    return enum_value[len(prefix):].lower()


def masked(update, paths):
    return {p for p in update.get("updateMask", "").split(",") if p} & set(paths)


def fold(events):
    by_aggregate = collections.defaultdict(list)
    for e in events:
        by_aggregate[(e["aggregateType"], e["aggregateId"])].append(e)
    leads, deals, activities = {}, {}, {}
    for (kind, ident), history in by_aggregate.items():
        history.sort(key=lambda e: int(e.get("aggregateVersion", "0")))
        if kind == "lead":
            leads[ident] = fold_lead(history)
        elif kind == "deal":
            deals[ident] = fold_deal(history)
        elif kind == "activity":
            activities[ident] = fold_activity(history)
    # A completed call or email activity on a lead is a contact of it.
    for a in activities.values():
        if a["done"] is None or a["type"] not in ("ACTIVITY_TYPE_CALL", "ACTIVITY_TYPE_EMAIL"):
            continue
        if not a["owner"].startswith("leads/"):
            continue
        lead = leads.get(a["owner"][len("leads/"):])
        if lead is not None:
            lead["contacts"].append(a["done"])
    return leads, deals, activities


def fold_lead(history):
    lead = {"entered": set(), "contacts": [], "convert": None, "merged": False, "junk_reason": ""}
    for e in history:
        at = ts(e["occurTime"])
        if "leadCreated" in e:
            l = e["leadCreated"]["lead"]
            # A lead is created at its event's time (the server's clock).
            lead.update(created=ts(l.get("createTime", e["occurTime"])),
                        source=l.get("source", ""),
                        responsible=l.get("responsibleId", ""), status=l["statusId"],
                        semantic=l.get("statusSemantic", ""), repeat=l.get("repeat", False))
        elif "leadUpdated" in e:
            update = e["leadUpdated"]
            for path in masked(update, ["source", "responsible_id"]):
                key = "source" if path == "source" else "responsibleId"
                lead["source" if path == "source" else "responsible"] = update["lead"].get(key, "")
        elif "leadAssigned" in e:
            lead["responsible"] = e["leadAssigned"].get("toResponsibleId", "")
        elif "leadStatusChanged" in e:
            change = e["leadStatusChanged"]
            lead.update(status=change["toStatusId"], semantic=change.get("semantic", ""))
        elif "leadMarkedJunk" in e:
            junk = e["leadMarkedJunk"]
            lead.update(status=junk["toStatusId"], semantic=FAILURE,
                        junk_reason=junk.get("reason", ""))
        elif "leadReopened" in e:
            lead.update(status=e["leadReopened"]["toStatusId"],
                        semantic="STATUS_SEMANTIC_IN_PROGRESS", junk_reason="")
        elif "leadConverted" in e:
            lead.update(status=e["leadConverted"]["toStatusId"], semantic=SUCCESS)
        elif "leadMergedInto" in e:
            lead.update(status=e["leadMergedInto"]["toStatusId"], merged=True)
        elif "communicationRecorded" in e:
            call = e["communicationRecorded"].get("channelEvent", {}).get("call")
            if call is not None:
                kind = call.get("kind", "")
                if kind == "CALL_KIND_OUTGOING" or (
                        kind == "CALL_KIND_INCOMING" and call.get("durationSeconds", 0) > 0):
                    lead["contacts"].append(at)
        lead["entered"].add(lead.get("status"))
        if lead.get("semantic") == SUCCESS and lead["convert"] is None:
            lead["convert"] = at
    return lead


def fold_deal(history):
    deal = {"won": None}
    for e in history:
        if "dealCreated" in e:
            d = e["dealCreated"]["deal"]
            money = d.get("opportunity", {})
            deal.update(source=d.get("source", ""), responsible=d.get("responsibleId", ""),
                        pipeline=d.get("pipelineId", ""), semantic=d.get("stageSemantic", ""),
                        currency=money.get("currencyCode", ""),
                        amount=int(money.get("amountMinor", "0")))
        elif "dealUpdated" in e:
            update = e["dealUpdated"]
            if masked(update, ["responsible_id"]):
                deal["responsible"] = update["deal"].get("responsibleId", "")
            if masked(update, ["opportunity"]):
                money = update["deal"].get("opportunity", {})
                deal.update(currency=money.get("currencyCode", ""),
                            amount=int(money.get("amountMinor", "0")))
        elif "dealStageChanged" in e:
            deal["semantic"] = e["dealStageChanged"].get("semantic", "")
            if deal["semantic"] == SUCCESS:
                deal["won"] = ts(e["occurTime"])
    return deal


def fold_activity(history):
    activity = {"done": None, "owner": "", "type": "", "responsible": "", "deadline": None}
    for e in history:
        if "activityPlanned" in e:
            a = e["activityPlanned"]["activity"]
            activity.update(owner=a.get("owner", ""), type=a.get("type", ""),
                            responsible=a.get("responsibleId", ""),
                            deadline=ts(a["deadline"]) if "deadline" in a else None)
        elif "activityRescheduled" in e:
            activity["deadline"] = ts(e["activityRescheduled"]["toDeadline"])
        elif "activityCompleted" in e:
            activity["done"] = ts(e["occurTime"])
    return activity


def quantile(values, q):
    """The smallest value at or above which a share q of them lie."""
    if not values:
        return None
    values = sorted(values)
    rank = max(1, -(-int(q * len(values) * 1000) // 1000))
    return int(values[rank - 1])


def report(leads, deals, activities, start, end, order):
    """`order`: the in-progress and success statuses in pipeline order."""
    cohort = [l for l in leads.values()
              if "created" in l and not l["merged"] and start <= l["created"] < end]
    reached = collections.Counter()
    now = collections.Counter()
    for l in cohort:
        furthest = max((order.index(s) for s in l["entered"] if s in order), default=-1)
        for s in order[:furthest + 1]:
            reached[s] += 1
        for s in l["entered"]:
            if s not in order:
                reached[s] += 1
        now[l["status"]] += 1
    sources = collections.defaultdict(collections.Counter)
    managers = collections.defaultdict(collections.Counter)
    waits, waiting = [], 0
    for l in cohort:
        converted, junk = l["semantic"] == SUCCESS, l["semantic"] == FAILURE
        for row in (sources[lower_name(l["source"], "LEAD_SOURCE_")], managers[l["responsible"]]):
            row["leads"] += 1
            row["converted"] += converted
            row["junk"] += junk
        sources[lower_name(l["source"], "LEAD_SOURCE_")]["repeat"] += bool(l["repeat"])
        managers[l["responsible"]]["processed"] += len(l["entered"]) >= 2
        if l["contacts"]:
            waits.append(max(0, min(l["contacts"]) - l["created"]))
        elif not converted and not junk:
            waiting += 1
    for d in deals.values():
        if d["won"] is not None and start <= d["won"] < end:
            for row in (sources[lower_name(d["source"], "LEAD_SOURCE_")], managers[d["responsible"]]):
                row["deals_won"] += 1
                if d["amount"]:
                    row["won_" + d["currency"]] += d["amount"]
    for a in activities.values():
        if a["done"] is not None and start <= a["done"] < end:
            managers[a["responsible"]]["activities_done"] += 1
            if a["deadline"] is not None and a["done"] > a["deadline"]:
                managers[a["responsible"]]["done_late"] += 1
    return {
        "funnel": {"items": len(cohort), "reached": dict(reached), "now": dict(now)},
        "sources": {k: dict(v) for k, v in sources.items()},
        "managers": {k: dict(v) for k, v in managers.items()},
        "first_contact": {"leads": len(cohort), "contacted": len(waits),
                          "median": quantile(waits, 0.5), "p90": quantile(waits, 0.9),
                          "waiting": waiting},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="start", required=True, help="RFC 3339")
    parser.add_argument("--to", dest="end", required=True, help="RFC 3339, not included")
    parser.add_argument("--stages", default="NEW,IN_PROCESS,PROCESSED,CONVERTED",
                        help="the in-progress and success lead statuses, in order "
                             "(`leadflow pipelines get lead`)")
    args = parser.parse_args()
    events = []
    for line in sys.stdin:
        if line.strip():
            record = json.loads(line)
            events.append(record.get("event", record))
    leads, deals, activities = fold(events)
    result = report(leads, deals, activities, ts(args.start), ts(args.end),
                    args.stages.split(","))
    json.dump(result, sys.stdout, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
