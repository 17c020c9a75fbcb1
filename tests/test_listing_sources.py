"""Each listing source against a server on 127.0.0.1 speaking its contract."""

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from listing_fixtures import sample_listings
from servers.forward_proxy import ForwardProxy, dead_proxy_url
from servers.mls_html import MlsHtmlServer
from servers.reso import ResoContractServer

from phoenix_dagster.sources.base import RawPayload, payloads_frame
from phoenix_dagster.sources.csv_inbox import CsvInbox
from phoenix_dagster.sources.http import AuthenticationFailed, RetryBudget, RetryPolicy
from phoenix_dagster.sources.mls_html import DEFAULT_USER_AGENT, MlsHtmlSource, ProxyPool
from phoenix_dagster.sources.mls_selectors import load_selectors
from phoenix_dagster.sources.rate_limit import SlidingWindowLimiter
from phoenix_dagster.sources.reso import ResoWebApi
from phoenix_dagster.transforms.listing_formats import listing_records
from phoenix_dagster.transforms.listings import stage_listings
from phoenix_dagster.transforms.payloads import decode_json_bodies

pytestmark = pytest.mark.integration

FAST = RetryPolicy(max_attempts=3, backoff_base_s=0.01, backoff_cap_s=0.02)


def staged(fetch, zip_code="85031", selectors=None):
    decoded, _, unreadable = decode_json_bodies(payloads_frame(fetch.payloads))
    records, rejected_formats = listing_records(decoded, selectors)
    result = stage_listings(records, zip_code)
    return result.staged, result.rejected, rejected_formats, unreadable


# -- RESO Web API ----------------------------------------------------------------------
def reso(server, token="reso-token", page_size=25) -> ResoWebApi:
    return ResoWebApi(
        server.url,
        token,
        limiter=SlidingWindowLimiter(1000, 1.0),
        budget=RetryBudget(10),
        policy=FAST,
        page_size=page_size,
    )


def test_reso_pages_through_nextlink_with_a_bearer_token():
    with ResoContractServer(sample_listings()) as server:
        fetch = reso(server).fetch("85031")
    assert len(fetch.payloads) == 3 and not fetch.failures  # 74 listings, 25 a page
    assert {s["authorization"] for s in server.seen} == {"Bearer reso-token"}
    assert server.seen[0]["query"]["$filter"] == "PostalCode eq '85031'"
    assert server.seen[0]["query"]["$orderby"] == "ModificationTimestamp"
    listings, rejected, *_ = staged(fetch)
    assert listings.height == 74 and rejected.is_empty()


def test_reso_is_incremental_from_the_last_modification_seen():
    records = sample_listings()
    since = datetime(2026, 11, 20, tzinfo=UTC)
    with ResoContractServer(records) as server:
        fetch = reso(server).fetch("85031", since=since)
    assert (
        server.seen[0]["query"]["$filter"] == "PostalCode eq '85031' and ModificationTimestamp gt 2026-11-20T00:00:00Z"
    )
    listings, *_ = staged(fetch)
    expected = sum(1 for r in records if r["ModificationTimestamp"] > "2026-11-20T00:00:00Z")
    assert listings.height == expected and (listings["ModificationTimestamp"] > since).all()


def test_reso_refuses_a_nextlink_to_another_host():
    with ResoContractServer(sample_listings()) as server:
        server.next_link_host = "evil.example:8080"
        fetch = reso(server).fetch("85031")
    assert len(server.seen) == 1 and len(fetch.payloads) == 1
    [failure] = fetch.failures
    assert "refused @odata.nextLink to another host (evil.example:8080)" in failure.reason


def test_reso_retries_429_and_5xx_and_fails_fast_on_a_bad_token():
    with ResoContractServer(sample_listings()) as server:
        server.fail_statuses.extend([429, 503])
        fetch = reso(server).fetch("85031")
        assert len(fetch.payloads) == 3 and [s["query"].get("$skip") for s in server.seen][:3] == [None, None, None]
        with pytest.raises(AuthenticationFailed, match="check RESO_API_TOKEN"):
            reso(server, token="stale").fetch("85031")


# -- CSV inbox (Redfin downloads) ----------------------------------------------------------
HEADER = (
    "SALE TYPE,SOLD DATE,PROPERTY TYPE,ADDRESS,CITY,STATE OR PROVINCE,ZIP OR POSTAL CODE,PRICE,BEDS,BATHS,"
    "LOCATION,SQUARE FEET,LOT SIZE,YEAR BUILT,DAYS ON MARKET,$/SQUARE FEET,HOA/MONTH,STATUS,"
    "NEXT OPEN HOUSE START TIME,NEXT OPEN HOUSE END TIME,"
    "URL (SEE https://www.redfin.com/buy-a-home/comparative-market-analysis FOR INFO ON PRICING),"
    "SOURCE,MLS#,FAVORITE,INTERESTED,LATITUDE,LONGITUDE"
)
DISCLAIMER = '"In accordance with local MLS rules, some MLS listings are not included in the download"'
ROWS = [
    'MLS Listing,,Single Family Residential,4027 N 55th Ave,Phoenix,AZ,85031,"$425,000",3,2.5,Maryvale,"1,980",'
    '"6,534 sqft",1958,12,215,,Active,,,https://www.redfin.com/AZ/Phoenix/4027-N-55th-Ave-85031/home/1,ARMLS,6731000,N,Y,'
    "33.49,-112.17",
    "PAST SALE,October-31-2025,Single Family Residential,4004 N 55th Ave,Phoenix,AZ,85031,310000,3,2,Maryvale,1400,"
    "6100,1960,,221,,Sold,,,https://www.redfin.com/AZ/Phoenix/4004-N-55th-Ave-85031/home/2,ARMLS,6722222,N,Y,33.49,"
    "-112.17",
    "MLS Listing,,Condo/Co-op,1820 W Palm Ln #12,Phoenix,AZ,85035,199000,2,1,Amberlea,900,,1985,3,221,$45,Pending,,,"
    "https://www.redfin.com/x/3,ARMLS,6733333,N,Y,33.47,-112.19",
]


def write_export(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_redfin_exports_with_every_known_quirk(tmp_path):
    inbox = tmp_path / "inbox"
    write_export(inbox, "a.csv", "\n".join([DISCLAIMER, HEADER, *ROWS[:2]]) + "\n")
    write_export(
        inbox,
        "b.csv",
        "\n".join(
            [
                HEADER.replace("STATE OR PROVINCE", "STATE")
                .replace("ZIP OR POSTAL CODE", "ZIP")
                .replace(
                    "URL (SEE https://www.redfin.com/buy-a-home/comparative-market-analysis FOR INFO ON PRICING)",
                    "URL (SEE http://www.redfin.com/buy FOR INFO)",
                ),
                DISCLAIMER,
                ROWS[2],
            ]
        )
        + "\n",
    )
    fetch = CsvInbox(inbox, "2026-11-28", settle_s=0).fetch("85031")
    assert len(fetch.payloads) == 2
    listings, _rejected, *_ = staged(fetch)
    rows = {r["ListingId"]: r for r in listings.iter_rows(named=True)}
    assert set(rows) == {"6731000", "6722222"}  # the 85035 row waits for its own partition
    active = rows["6731000"]
    assert active["ListPrice"] == 425000 and active["LivingArea"] == 1980 and active["LotSizeSquareFeet"] == 6534
    assert active["BathroomsTotalInteger"] == 3 and active["BathroomsHalf"] == 1
    assert active["PropertySubType"] == "SingleFamilyResidence" and active["StandardStatus"] == "Active"
    sold = rows["6722222"]
    assert (
        sold["StandardStatus"] == "Closed" and sold["ClosePrice"] == 310000 and str(sold["CloseDate"]) == "2025-10-31"
    )
    condo, *_ = staged(CsvInbox(inbox, "2026-11-28", settle_s=0).fetch("85035"), zip_code="85035")
    assert condo["AssociationFee"].to_list() == [45] and condo["UnparsedAddress"].to_list() == ["1820 W Palm Ln #12"]


def test_each_export_is_ingested_once_by_content_then_archived(tmp_path):
    inbox = tmp_path / "inbox"
    first = write_export(inbox, "export.csv", "\n".join([HEADER, *ROWS]) + "\n")
    os.utime(first, (1_790_000_000, 1_790_000_000))
    day_one = CsvInbox(inbox, "2026-11-27", settle_s=0).fetch("85031")
    assert not list(inbox.glob("*.csv")) and len(day_one.payloads) == 1
    assert day_one.payloads[0].fetched_at == datetime.fromtimestamp(1_790_000_000, UTC)  # when it arrived
    assert len(CsvInbox(inbox, "2026-11-27", settle_s=0).fetch("85035").payloads) == 1  # every ZIP of the day sees it
    write_export(inbox, "export (1).csv", "\n".join([HEADER, *ROWS]) + "\n")  # the same file, saved again
    day_two = CsvInbox(inbox, "2026-11-28", settle_s=0).fetch("85031")
    assert day_two.payloads == [] and "already ingested" in day_two.failures[0].reason
    assert len(list((inbox / "archive" / "duplicates").glob("*"))) == 1  # kept, not deleted


def test_a_file_that_is_not_a_redfin_download_is_refused_with_the_reason(tmp_path):
    write_export(tmp_path / "inbox", "notes.csv", "name,phone\nBob,555\n")
    fetch = CsvInbox(tmp_path / "inbox", "2026-11-28", settle_s=0).fetch("85031")
    assert not fetch.payloads and [f.reason for f in fetch.failures] == [
        "no 'SALE TYPE,…' header line: not a Redfin search download; moved to inbox/rejected"
    ]
    # a file that reaches staging some other way is rejected there, whole, for the same reason
    raw = payloads_frame(
        [
            RawPayload(
                "csv_inbox",
                "csv_export",
                "x",
                "inbox/notes.csv",
                200,
                datetime(2026, 11, 28, tzinfo=UTC),
                b"name,phone\nBob,555\n",
            )
        ]
    )
    _, rejected_formats = listing_records(decode_json_bodies(raw)[0])
    assert rejected_formats["reason"].to_list() == ["no 'SALE TYPE,…' header line: not a Redfin search download"]


def test_a_file_over_the_size_limit_is_refused_without_being_read_whole(tmp_path):
    inbox = tmp_path / "inbox"
    write_export(inbox, "huge.csv", "\n".join([HEADER, *ROWS * 400]) + "\n")
    write_export(inbox, "small.csv", "\n".join([HEADER, *ROWS[:1]]) + "\n")
    fetch = CsvInbox(inbox, "2026-11-28", max_bytes=4096, settle_s=0).fetch("85031")
    assert [p.record_key for p in fetch.payloads] and len(fetch.payloads) == 1
    [refused] = fetch.failures
    assert refused.record_key == "huge.csv" and "larger than 0.00390625 MB (PHOENIX_MAX_BODY_MB)" in refused.reason
    assert [p.name.split("__", 1)[1] for p in (inbox / "rejected").iterdir()] == ["huge.csv"]


# -- MLS HTML pages ----------------------------------------------------------------------------
def mls(site, **kwargs) -> MlsHtmlSource:
    return MlsHtmlSource(
        site.url,
        load_selectors(),
        limiter=SlidingWindowLimiter(1000, 1.0),
        budget=RetryBudget(10),
        policy=FAST,
        user_agent=DEFAULT_USER_AGENT,
        **kwargs,
    )


def test_mls_pages_results_details_and_pagination():
    with MlsHtmlServer(sample_listings(), per_page=20) as site:
        fetch = mls(site).fetch("85031")
    searches = [s for s in site.seen if s["path"] == "/search"]
    assert len(searches) == 4 and not fetch.failures  # 74 listings, 20 a page
    assert site.seen[0]["path"] == "/robots.txt" and site.seen[0]["user_agent"].startswith("PhoenixEstateBot")
    listings, rejected, rejected_formats, _ = staged(fetch, selectors=load_selectors())
    assert listings.height == 74 and rejected.is_empty() and rejected_formats.is_empty()
    row = listings.row(0, named=True)
    assert row["ListPrice"] > 100_000 and row["PhotoURLs"][0].startswith("/photos/") and row["PostalCode"] == "85031"


def test_mls_zip_with_no_listings_is_empty_not_out_of_date():
    with MlsHtmlServer(sample_listings()) as site:
        fetch = mls(site).fetch("85099")
    assert not fetch.failures and len(fetch.payloads) == 1


def test_a_changed_layout_is_reported_as_selectors_out_of_date_with_the_page_landed():
    with MlsHtmlServer(sample_listings()) as site:
        site.layout = "v2"
        fetch = mls(site).fetch("85031")
    assert len(fetch.payloads) == 1 and fetch.payloads[0].entity == "mls_search_page"
    [failure] = fetch.failures
    assert failure.reason.startswith("selectors out of date (v1): search page matched neither")


def test_a_detail_page_that_no_longer_fits_is_quarantined_as_out_of_date():
    with MlsHtmlServer(sample_listings()[:3]) as site:
        fetch = mls(site).fetch("85031")
    broken = fetch.payloads[-1]
    object.__setattr__(broken, "body", broken.body.replace(b'class="price"', b'class="amount"'))
    listings, _, rejected_formats, _ = staged(fetch, selectors=load_selectors())
    assert listings.height == 2
    assert rejected_formats["reason"][0].endswith("has no ListPrice (div.price)")


def test_mls_honours_robots_and_retries_429():
    with MlsHtmlServer(sample_listings()[:5]) as site:
        site.disallow = ["/listing/"]
        site.fail_statuses.append(429)
        fetch = mls(site).fetch("85031")
    assert not [s for s in site.seen if s["path"].startswith("/listing/")]
    assert len(fetch.failures) == 5 and all("robots.txt" in f.reason for f in fetch.failures)
    assert [s["path"] for s in site.seen].count("/search") == 2  # the 429, then the page


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_robots_txt_answered_with_a_server_error_disallows_everything(status):
    """RFC 9309 §2.3.1.4: robots.txt unreachable (5xx, or 429 after the retries) means nothing may
    be crawled — before, every such answer read as "no rules" and the whole site was fetched."""
    with MlsHtmlServer(sample_listings()[:3]) as site:
        site.robots_status = status
        fetch = mls(site).fetch("85031")
    assert [s["path"] for s in site.seen if s["path"] != "/robots.txt"] == []
    assert fetch.failures and f"robots.txt answered HTTP {status}" in fetch.failures[0].reason
    assert fetch.cut_short  # a complete source that saw nothing keeps its earlier listings


def test_a_robots_txt_that_is_not_there_means_no_rules():
    with MlsHtmlServer(sample_listings()[:3]) as site:
        site.robots_status = 404
        fetch = mls(site).fetch("85031")
    assert len(fetch.payloads) == 4 and not fetch.failures  # 1 search page + 3 details


def test_a_search_page_with_too_many_detail_links_is_read_only_in_part():
    with MlsHtmlServer(sample_listings()[:30], per_page=30) as site:
        fetch = mls(site, max_details_per_page=20).fetch("85031")
    assert sum(1 for s in site.seen if s["path"].startswith("/listing/")) == 20
    assert "more than 20 (MLS_MAX_DETAILS_PER_PAGE)" in fetch.cut_short


def test_a_crawl_stops_when_its_replies_reach_the_total_bytes_cap():
    with MlsHtmlServer(sample_listings()[:30], per_page=10) as site:
        fetch = mls(site, max_fetch_bytes=20_000).fetch("85031")
    asked = [s["path"] for s in site.seen if s["path"] != "/robots.txt"]
    assert 1 < len(asked) < 31 and "PHOENIX_MAX_FETCH_MB" in fetch.cut_short
    assert sum(len(p.body) for p in fetch.payloads) < 20_000 + 16 * 2**20  # one reply past the cap at most


def test_only_the_configured_scheme_and_port_are_fetched():
    source = MlsHtmlSource(
        "https://www.example.org",
        load_selectors(),
        limiter=SlidingWindowLimiter(10, 1.0),
        budget=RetryBudget(1),
        user_agent="t",
        resolve=lambda host, port: [(None, None, None, "", ("93.184.216.34", 0))],
        allowed_hosts=("example.org", "https://media.example.org:8443", "cdn.example.org:9443"),
    )
    assert source.refusal("https://www.example.org/listing/1") is None
    assert source.refusal("https://www.example.org:443/listing/1") is None  # the default port, spelt out
    assert source.refusal("https://example.org/listing/1") is None  # an allowed host, the site's scheme and port
    assert source.refusal("https://media.example.org:8443/p.jpg") is None  # as configured
    assert source.refusal("https://cdn.example.org:9443/p.jpg") is None  # host:port, on the site's scheme
    for url in (
        "http://www.example.org/listing/1",
        "https://www.example.org:8443/listing/1",
        "http://www.example.org:22/",
        "https://media.example.org/p.jpg",
        "https://example.org:444/x",
    ):
        assert "is not the scheme and port configured" in source.refusal(url), url
    assert "not a number" in source.refusal("https://www.example.org:http/x")
    source.close()


def test_a_reso_page_that_is_hostile_is_landed_and_paging_stops_saying_why():
    """A page nested ~100,000 deep (RecursionError in Python's json) is landed for staging to
    quarantine, not raised; a nextLink that is not a string stops paging with the reason."""
    with ResoContractServer(sample_listings()) as server:
        server.scenario = "deeply_nested"
        deep = reso(server).fetch("85031")
        server.scenario = "odd_next_link"
        odd = reso(server).fetch("85031")
    assert len(deep.payloads) == 1 and deep.payloads[0].body.startswith(b'{"value": [[[') and not deep.failures
    assert len(odd.payloads) == 1 and [f.reason for f in odd.failures] == [
        "@odata.nextLink is an object, not a link; paging stopped after page 1"
    ]


def test_proxies_rotate_and_a_failing_one_is_parked():
    with MlsHtmlServer(sample_listings()[:6]) as site, ForwardProxy() as good:
        source = mls(site, proxies=[dead_proxy_url(), good.url])
        fetch = source.fetch("85031")
        pool = source.proxies.pool
    assert len(fetch.payloads) == 7 and not fetch.failures  # 1 search page + 6 details, all through the good proxy
    assert len(good.forwarded) == 8 and all(s["via_proxy"] == good.url for s in site.seen)
    assert pool.parked() == [pool.urls[0]]
    assert source.proxy_bytes > 5_000  # 7 pages through the proxy, for the cost ledger


def test_the_proxy_pool_parks_after_three_failures_for_five_minutes():
    now = [0.0]
    pool = ProxyPool(["a", "b"], clock=lambda: now[0])
    for _ in range(3):
        pool.failed("a")
    assert [pool.choose() for _ in range(3)] == ["b", "b", "b"]
    now[0] = 301.0
    assert {pool.choose() for _ in range(2)} == {"a", "b"}


def test_selector_files_are_validated_at_load(tmp_path):
    good = Path(load_selectors.__defaults__[0]).read_text()
    for broken, message in [
        (good.replace('result: "article.listing-card"', 'result: "article[[["'), "not a CSS selector"),
        (
            good.replace("required: [ListingId, ListPrice, UnparsedAddress]", "required: [ListingId, Garage]"),
            "have no selector",
        ),
        (good.replace("    PublicRemarks:", "    Remarks:"), "unknown field"),
        (good.replace('regex: "(\\\\d{5,})"', 'regex: "\\\\d{5,}"'), "exactly one capture group"),
    ]:
        path = tmp_path / "selectors.yaml"
        path.write_text(broken)
        with pytest.raises(ValueError, match=message):
            load_selectors(path)


def test_export_header_variants_are_read_and_an_unreadable_file_is_refused_whole(tmp_path):
    inbox = tmp_path / "inbox"
    postal = HEADER.replace("ZIP OR POSTAL CODE", "POSTAL CODE")  # a newer export's heading
    write_export(inbox, "postal.csv", "\n".join([postal, *ROWS[:2]]) + "\n")
    no_zip = HEADER.replace("ZIP OR POSTAL CODE", "AREA")  # no ZIP column under any known name
    write_export(inbox, "no_zip.csv", "\n".join([no_zip, *ROWS[:2]]) + "\n")
    fetch = CsvInbox(inbox, "2026-11-28", settle_s=0).fetch("85031")
    assert len(fetch.payloads) == 1
    listings, *_ = staged(fetch)
    assert set(listings["ListingId"]) == {"6731000", "6722222"}
    [refused] = fetch.failures
    assert refused.record_key == "no_zip.csv"
    assert refused.reason.startswith("headers missing: ZIP OR POSTAL CODE (or POSTAL CODE, ZIP); found: SALE TYPE")
    assert "AREA" in refused.reason and refused.reason.endswith("moved to inbox/rejected")
    assert [p.name.split("__", 1)[1] for p in (inbox / "rejected").iterdir()] == ["no_zip.csv"]  # kept, not archived
    assert not any(p.name.endswith("no_zip.csv") for p in (inbox / "archive").rglob("*.csv"))


@pytest.mark.parametrize("status", [404, 503])
def test_a_search_page_that_fails_cuts_the_crawl_short_and_says_so(status):
    with MlsHtmlServer(sample_listings(), per_page=20) as site:
        site.search_failures[2] = status
        fetch = mls(site).fetch("85031")
    assert fetch.cut_short == f"search page 2 got HTTP {status}: the crawl saw only part of the ZIP"
    assert [f.reason for f in fetch.failures] == [fetch.cut_short]
    assert sum(p.entity == "mls_listing_page" for p in fetch.payloads) == 20  # page 1's listings still landed


def test_the_crawler_fetches_only_the_configured_site_redirects_included():
    listings = sample_listings()[:4]
    with MlsHtmlServer(listings) as site:
        ids = [r["ListingId"] for r in site.listings]
        site.links[ids[0]] = "http://169.254.169.254/latest/meta-data/"  # cloud metadata
        site.links[ids[1]] = (
            f"http://localhost:{site.address.split(':')[1]}/listing/{ids[1]}"  # same server, other name
        )
        site.redirects[f"/listing/{ids[2]}"] = "http://10.1.2.3/internal"  # a redirect off the site
        fetch = mls(site).fetch("85031")
        details = [p for p in fetch.payloads if p.entity == "mls_listing_page"]
        assert [p.request for p in details] == [f"{site.url}/listing/{ids[3]}"]  # the full URL is recorded
        reasons = {f.record_key: f.reason for f in fetch.failures}
        assert reasons["meta-data"] == (
            "host 169.254.169.254 is not the configured site (MLS_BASE_URL) or in MLS_ALLOWED_HOSTS; not fetched"
        )
        assert reasons[ids[1]].startswith("host localhost is not the configured site")
        assert reasons[ids[2]].startswith("host 10.1.2.3 is not the configured site")
        assert not [s for s in site.seen if s["path"] == "/internal"]
        allowed = mls(site, allowed_hosts=("localhost",)).fetch("85031")  # an explicit allow-list entry
        assert any(p.request.startswith("http://localhost:") for p in allowed.payloads)
    robots = [s for s in site.seen if s["path"] == "/robots.txt"]
    assert len(robots) == 3  # once per host fetched: 127.0.0.1 twice (two crawls), localhost once


def test_an_allowed_host_that_resolves_to_a_private_address_is_refused():
    def resolve(host, port):  # no DNS here: the answer a hostile or misconfigured resolver would give
        return (
            [(None, None, None, "", ("10.0.0.5", 0))]
            if host == "mls.example.com"
            else [(None, None, None, "", ("93.184.216.34", 0))]
        )

    source = MlsHtmlSource(
        "https://www.example.org",
        load_selectors(),
        limiter=SlidingWindowLimiter(10, 1.0),
        budget=RetryBudget(1),
        user_agent="t",
        allowed_hosts=("mls.example.com",),
        resolve=resolve,
    )
    assert source.refusal("https://www.example.org/listing/1") is None
    assert source.refusal("https://mls.example.com/listing/1") == (
        "host mls.example.com resolves to a private, loopback or link-local address; not fetched"
    )
    assert source.refusal("file:///etc/passwd").startswith("scheme file refused")
    source.close()


def test_the_inbox_takes_only_settled_files(tmp_path):
    """A file still being copied in (modified within PHOENIX_INBOX_SETTLE_S) is left for the next
    run, and so are a `.part` file and a dotfile; once unchanged for the window it is taken."""
    import time

    inbox = tmp_path / "inbox"
    export = write_export(inbox, "export.csv", "\n".join([HEADER, *ROWS]) + "\n")
    write_export(inbox, "later.csv.part", "\n".join([HEADER, ROWS[0]]) + "\n")
    write_export(inbox, ".hidden.csv", "\n".join([HEADER, ROWS[1]]) + "\n")
    fresh = CsvInbox(inbox, "2026-11-28", settle_s=60)
    assert fresh.fetch("85031").payloads == [] and fresh.waiting == ["export.csv"]
    assert export.exists()  # untouched, still in the inbox
    an_hour_ago = time.time() - 3600
    os.utime(export, (an_hour_ago, an_hour_ago))
    settled = CsvInbox(inbox, "2026-11-28", settle_s=60)
    assert [p.request for p in settled.fetch("85031").payloads] == ["inbox/export.csv"] and settled.waiting == []
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == [".hidden.csv", "later.csv.part"]
