"""Fuzzing the admin's live endpoints (realtime/ops/admin): the live JSON a change page
polls, the kick, the create-with-bots form, and the match list's query string, as staff who
may act. Every request is answered (no exception, no 5xx); a refused kick or creation changes
no row, an accepted one exactly what it says. Each form's strategy is built from its fields.
"""

import json
import logging
from urllib.parse import urlencode

from django.test import Client, TestCase
from hypothesis import given
from hypothesis import strategies as st

from matches import services
from matches.models import Match, Participation
from matches.titles import TITLES
from realtime.ops.admin.views import CreateWithBotsForm, KickForm
from tests.fuzz import budget
from tests.fuzz.strategies import EDGE_INTS, EDGE_TEXT, json_values
from tests.support.sockets import begin, session_for
from tests.support.stack import flush_redis
from tests.support.staff import controller

SHARE = 0.05  # of FUZZ_REQUESTS, for each of the four surfaces (test_api has the rest)
ADMIN = "/admin/matches/match/"
SURROGATES = "surrogatepass"

# A form field's value as a browser may post it: the documented kind, or any text at all.
small_ints = st.one_of(st.integers(-3, 70), st.sampled_from(EDGE_INTS)).map(str)
form_text = st.one_of(small_ints, st.sampled_from(EDGE_TEXT), st.text(max_size=30))
kick_forms = st.fixed_dictionaries(
    {},
    optional={"slot": st.one_of(st.integers(-1, 4).map(str), form_text),
              "reason": st.one_of(st.text(max_size=210), form_text)},
)  # fmt: skip


def _mostly(right: st.SearchStrategy, wrong: st.SearchStrategy = form_text) -> st.SearchStrategy:
    return st.one_of(right, right, right, wrong)


@st.composite
def settings_text(draw, name: str) -> str:
    """A title's settings as JSON text: its documented fields (settings_schema) with edge
    values, or any JSON at all."""
    fields = TITLES[name].settings_schema()
    chosen = draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=len(fields)))
    values = {}
    for name in chosen:
        spec = fields[name]
        lo, hi = spec.get("min"), spec.get("max")
        right = (st.integers(lo, hi) if spec["type"] == "int" else
                 st.floats(lo, hi) if spec["type"] == "float" else st.booleans())  # fmt: skip
        if lo is not None:
            right = _mostly(right, st.sampled_from((lo - 1, hi + 1, lo - 0.5, str(lo))))
        values[name] = draw(st.one_of(right, right, json_values))
    value = draw(st.one_of(st.just(values), st.just(values), json_values))
    return draw(_mostly(st.just(json.dumps(value))))


@st.composite
def create_forms(draw) -> dict:
    """The create-with-bots form: a title, its settings, a number of bots, start or not."""
    name = draw(st.sampled_from(sorted(TITLES)))
    form = {
        "title": draw(_mostly(st.just(name))),
        "settings": draw(settings_text(name)),
        "bots": draw(_mostly(st.one_of(st.integers(1, 4), st.integers(0, 65)).map(str))),
    }
    if draw(st.booleans()):
        form["start"] = draw(st.sampled_from(("on", "", "off", "\x00")))
    if draw(st.integers(0, 5)) == 0:
        del form[draw(st.sampled_from(sorted(form)))]
    return form


list_queries = st.dictionaries(
    st.sampled_from(("q", "status", "title", "fill_with_bots__exact", "o", "p", "e", "all",
                     "created_at__year", "created_at__month", "created_at__day", "_to_field")),
    form_text, max_size=4,
)  # fmt: skip


class OpsFuzzTests(TestCase):
    def setUp(self):
        flush_redis()
        for name, level in (
            ("django.request", logging.ERROR),
            ("django.security", logging.CRITICAL),
        ):
            # 4xx warnings say nothing; a 5xx still logs. A refused _to_field is a 400.
            quiet = logging.getLogger(name)
            self.addCleanup(quiet.setLevel, quiet.level)
            quiet.setLevel(level)
        self.staff = Client(raise_request_exception=True)
        self.staff.force_login(controller())
        ann, _ = session_for("ann")
        self.running = services.match_create(title="pong")
        for player in (ann, session_for("bob")[0]):
            services.match_join(match_id=self.running.pk, player=player)
        begin(self.running)
        self.waiting = self.seat_waiting()

    def post(self, path: str, form: dict):
        # Encoded by hand: a lone surrogate goes as its "surrogatepass" bytes.
        body = urlencode(form, errors=SURROGATES)
        return self.staff.post(path, body, content_type="application/x-www-form-urlencoded")

    def seat_waiting(self) -> Match:
        match = services.match_create(title="snake", settings={"max_players": 4})
        for name in ("cat", "dan"):
            services.match_join(match_id=match.pk, player=session_for(name)[0])
        return match

    def ids(self) -> st.SearchStrategy:
        real = [self.running.pk, self.waiting.pk]
        return st.one_of(st.sampled_from(real), st.integers(0, 10**6), st.sampled_from(EDGE_INTS))

    def answered(self, tally, sent: str, response) -> None:
        if response.status_code >= 500:
            tally.fail(sent, str(response.status_code))
            raise AssertionError(f"{sent}: {response.status_code}")

    def fuzz(self, surface: str, strategy, send) -> dict:
        tally, statuses = budget.Tally(surface), {}

        @given(strategy)
        @budget.examples(round(budget.REQUESTS * SHARE))
        def run(case):
            tally.cases += 1
            sent = repr(case)[:300]
            try:
                response = send(case)
            except Exception as exc:
                tally.fail(sent, f"raised {type(exc).__name__}: {exc}")
                raise
            self.answered(tally, sent, response)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        try:
            run()
        finally:
            tally.record(statuses={str(k): v for k, v in sorted(statuses.items())})
        self.assertEqual(tally.failures, 0)
        return statuses

    def test_the_live_json_answers_every_match_id_and_query(self):
        def send(case):
            pk, query = case
            response = self.staff.get(
                f"{ADMIN}{pk}/live.json?{urlencode(query, errors=SURROGATES)}"
            )
            if response.status_code == 200 and pk == self.running.pk:
                self.assertEqual(response.json()["live"]["tick"], 0)
            return response

        statuses = self.fuzz("admin live.json", st.tuples(self.ids(), list_queries), send)
        self.assertGreater(statuses.get(200, 0), 0)

    def test_a_refused_kick_changes_no_seat_and_an_accepted_one_frees_exactly_its_slot(self):
        def seats():
            return list(Participation.objects.filter(match=self.waiting).order_by("slot")
                        .values_list("slot", "player_id", "left_at"))  # fmt: skip

        def send(form):
            before = seats()
            response = self.post(f"{ADMIN}{self.waiting.pk}/kick/", form)
            # This request's messages only (the earlier ones wait for a page to show them).
            said = [m.level_tag for m in response.wsgi_request._messages._queued_messages]
            after = seats()
            valid = KickForm(form).is_valid()
            if said == ["success"]:
                self.assertTrue(valid, form)
                self.assertEqual(len(before) - len(after), 1, (form, before, after))
                self.waiting = self.seat_waiting()  # a fresh match for the next kick
            else:
                self.assertEqual(after, before, form)
            return response

        statuses = self.fuzz("admin kick", kick_forms, send)
        self.assertEqual(set(statuses), {302})

    def test_a_refused_creation_makes_no_match_and_an_accepted_one_exactly_one(self):
        def send(form):
            before = Match.objects.count()
            response = self.post(f"{ADMIN}create-with-bots/", form)
            made = Match.objects.count() - before
            if response.status_code == 302:
                self.assertEqual(made, 1, form)
                self.assertTrue(CreateWithBotsForm(form).is_valid(), form)
            else:
                self.assertEqual(made, 0, form)
            return response

        self.fuzz("admin create-with-bots", create_forms(), send)
        # Few draws are a valid form (1 in 50 or none): one known-good form takes the other path.
        self.assertEqual(send({"title": "pong", "settings": "{}", "bots": "1"}).status_code, 302)

    def test_the_match_list_answers_every_query_string(self):
        def send(query):
            return self.staff.get(f"{ADMIN}?{urlencode(query, errors=SURROGATES)}")

        statuses = self.fuzz("admin match list", list_queries, send)
        self.assertGreater(statuses.get(200, 0), 0)

    def test_settings_with_a_lone_surrogate_show_the_form_again_with_its_error(self):
        # Found by the fuzzer: the form's page could not encode the surrogate, a 500.
        form = {"title": "arena", "bots": "4", "settings": '{"hp": 3, "\\udfff": 1}'}
        before = Match.objects.count()
        response = self.post(f"{ADMIN}create-with-bots/", form)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "unknown settings key")
        self.assertEqual(Match.objects.count(), before)

    def test_a_date_past_the_calendar_in_the_list_s_query_is_the_bad_lookup_redirect(self):
        # Found by the fuzzer: an OverflowError in Django's date hierarchy, a 500.
        for query in ("created_at__year=" + "9" * 30, "created_at__year=2026&created_at__month="
                      + "9" * 20):  # fmt: skip
            with self.subTest(query):
                response = self.staff.get(f"{ADMIN}?{query}")
                self.assertEqual(response.status_code, 302)
                self.assertTrue(response["Location"].endswith("?e=1"), response["Location"])
