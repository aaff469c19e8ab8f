"""acme_certificate without a CA: what is refused before any request, what is reused from disk, check mode, and
the helpers (badNonce retry, chain selection). Orders against pebble: tests/system/test_acme_dns01.py."""

from __future__ import annotations

import os

import pytest
from acme import messages

from ansible_collections.homelab.nas.plugins.module_utils import acme_client
from ansible_collections.homelab.nas.plugins.modules import acme_certificate
from tests.lab import pki
from tests.unit.plugins.modules.runner import run_module

ZONE = "example.test"
# Nothing listens there: a test that reached the CA would fail to connect, not pass.
NOWHERE = "https://127.0.0.1:9/dir"


@pytest.fixture
def run(cloudflare_lab, capsys, tmp_path):
    def _run(check_mode=False, **args):
        base = cloudflare_lab.module_args(
            hostnames=["nas." + ZONE],
            acme_directory=NOWHERE,
            account_key_path=str(tmp_path / "account.key"),
            private_key_path=str(tmp_path / "nas.key"),
            certificate_path=str(tmp_path / "nas.crt"),
            chain_path=str(tmp_path / "chain.pem"),
        )
        base.update(args)
        return run_module(acme_certificate, base, capsys, check_mode=check_mode, diff=True)

    return _run


def listing(directory):
    """The files in `directory` but the lock files (kept on purpose, file_lock.py)."""
    names = sorted(n for n in os.listdir(directory) if not n.endswith(".lock"))
    return {n: open(os.path.join(directory, n), "rb").read() for n in names}


@pytest.mark.parametrize(
    "args, fragment",
    [
        (dict(hostnames=["nas.example.org"]), "hostnames: nas.example.org not in the zone"),
        (dict(hostnames=["bad name." + ZONE]), "hostnames: 'bad name.example.test' is not a valid hostname"),
        (dict(acme_directory="http://ca.example.test/dir"), "acme_directory: 'http://ca.example.test/dir' is neither"),
        (dict(acme_directory="letsencrypt"), "acme_directory: 'letsencrypt' is neither 'staging', 'production'"),
        (dict(renew_before_days=-1), "renew_before_days: -1 is negative"),
        (dict(acme_timeout=0), "acme_timeout: 0 seconds cannot work"),
        (dict(certificate_path="/nonexistent/dir/nas.crt"), "certificate_path: directory /nonexistent/dir"),
    ],
)
def test_unusable_input_is_refused_naming_the_field(run, cloudflare_lab, tmp_path, args, fragment):
    for check_mode in (True, False):
        result = run(check_mode=check_mode, **args)
        assert result.get("failed") and fragment in result["msg"], result
    assert cloudflare_lab.calls() == [] and listing(tmp_path) == {}


@pytest.mark.parametrize("field", ["account_key_path", "private_key_path", "certificate_path", "chain_path"])
def test_a_file_that_is_not_ours_is_never_overwritten(run, cloudflare_lab, tmp_path, field):
    foreign = tmp_path / "notes.txt"
    foreign.write_text("someone's notes, not a key or certificate\n")
    result = run(**{field: str(foreign)})
    assert result.get("failed") and result["msg"].startswith("%s: %s exists but holds no" % (field, foreign))
    assert foreign.read_text() == "someone's notes, not a key or certificate\n"
    assert cloudflare_lab.calls() == [] and sorted(listing(tmp_path)) == ["notes.txt"]


def test_the_same_file_for_two_options_is_refused(run, tmp_path):
    result = run(chain_path=str(tmp_path / "nas.crt"))
    assert result.get("failed") and "name the same file" in result["msg"]


def write_issued(tmp_path, days=90, key=None, hostname="nas." + ZONE):
    ca = pki.TestPki()
    key = key or pki.rsa_key()
    leaf = pki.issue(hostname, key, ca.inter, ca.inter_key, sans=[hostname], days=days)
    (tmp_path / "nas.crt").write_bytes(pki.pem(leaf))
    (tmp_path / "nas.key").write_bytes(pki.pem(key))
    os.chmod(tmp_path / "nas.key", 0o600)
    (tmp_path / "chain.pem").write_bytes(pki.pem(ca.inter))
    return leaf


def test_a_valid_certificate_on_disk_is_reused_without_any_request(run, cloudflare_lab, tmp_path):
    write_issued(tmp_path)
    before = listing(tmp_path)
    result = run()
    assert (result["changed"], result["ordered"], result["reason"]) == (False, False, None)
    assert result["days_left"] in (88, 89) and result["hostnames"] == ["nas." + ZONE]
    assert result["certificate"] == before["nas.crt"].decode() and result["chain"] == before["chain.pem"].decode()
    assert result["diff"]["before"] == result["diff"]["after"]
    assert cloudflare_lab.calls() == [] and listing(tmp_path) == before


def test_without_chain_files_the_chain_is_unknown_not_empty(run, tmp_path):
    write_issued(tmp_path)
    result = run(chain_path=None)
    assert (result["ordered"], result["chain"], result["fullchain"]) == (False, None, None)
    assert result["certificate"] == (tmp_path / "nas.crt").read_text()


def test_a_missing_fullchain_is_written_from_what_is_on_disk(run, tmp_path):
    write_issued(tmp_path)
    result = run(fullchain_path=str(tmp_path / "full.pem"))
    assert result["changed"] is True and result["ordered"] is False
    assert result["diff"]["after"]["rewrite"] == [str(tmp_path / "full.pem")]
    assert (tmp_path / "full.pem").read_text() == result["certificate"] + result["chain"]
    assert oct(os.stat(tmp_path / "full.pem").st_mode & 0o777) == "0o644"


@pytest.mark.parametrize(
    "change, reason",
    [
        (dict(renew_before_days=95), "within renew_before_days (95)"),
        (dict(hostnames=["nas." + ZONE, "*.nas." + ZONE]), "not the declared hostnames"),
        (dict(key_type="ecdsa"), "not of key_type ecdsa"),
        (dict(regenerate_key=True), "regenerate_key is set"),
    ],
)
def test_check_mode_says_why_it_would_order_and_touches_nothing(run, cloudflare_lab, tmp_path, change, reason):
    leaf = write_issued(tmp_path)
    before = listing(tmp_path)
    result = run(check_mode=True, **change)
    assert (result["changed"], result["ordered"]) == (True, True) and reason in result["reason"], result
    assert result["diff"]["before"]["not_after"] == leaf.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert result["diff"]["after"]["not_after"] == "(a new certificate)"
    assert cloudflare_lab.calls() == [] and listing(tmp_path) == before


def test_a_certificate_for_another_key_is_replaced(run, tmp_path):
    write_issued(tmp_path)
    (tmp_path / "nas.key").write_bytes(pki.pem(pki.rsa_key()))
    result = run(check_mode=True)
    assert result["ordered"] is True and "not issued for the key" in result["reason"]


def test_an_unreachable_ca_fails_before_any_write(run, cloudflare_lab, tmp_path):
    result = run()
    assert result.get("failed") and result["msg"].startswith("cannot read the ACME directory %s" % NOWHERE)
    assert cloudflare_lab.calls() == [] and listing(tmp_path) == {}


class FlakyNetwork(acme_client.PatientNetwork):
    def __init__(self, rejections):
        super().__init__(key=None)
        self.rejections, self.sent = rejections, 0

    def _post_once(self, *args, **kwargs):
        self.sent += 1
        if self.sent <= self.rejections:
            raise messages.Error.with_code("badNonce", detail="JWS has an invalid anti-replay nonce")
        return "answer"


def test_bad_nonce_is_retried_up_to_five_tries():
    net = FlakyNetwork(rejections=4)
    assert net.post("https://ca.invalid/new-order", None) == "answer"
    assert (net.sent, net.nonce_retries) == (5, 4)
    net = FlakyNetwork(rejections=5)
    with pytest.raises(messages.Error) as raised:
        net.post("https://ca.invalid/new-order", None)
    assert raised.value.code == "badNonce" and net.sent == 5


def test_other_problems_are_not_retried():
    class Refusing(FlakyNetwork):
        def _post_once(self, *args, **kwargs):
            self.sent += 1
            raise messages.Error.with_code("rateLimited", detail="too many certificates")

    net = Refusing(rejections=0)
    with pytest.raises(messages.Error):
        net.post("https://ca.invalid/new-order", None)
    assert net.sent == 1


def test_the_chain_with_the_preferred_issuer_is_chosen_else_the_default():
    default, other = pki.TestPki(), pki.TestPki()
    other.inter = pki.issue("alt intermediate", other.inter_key, other.root, other.root_key, ca=True, days=10)
    leaf = pki.issue("nas." + ZONE, pki.rsa_key(), default.inter, default.inter_key, sans=["nas." + ZONE])
    chains = [
        (pki.pem(leaf) + pki.pem(default.inter)).decode(),
        (pki.pem(leaf) + pki.pem(other.inter)).decode(),
    ]
    chosen, matched = acme_client.select_chain(chains, "homelab.nas test root")
    assert matched and chosen[1] == default.inter
    other.root = pki.issue("Other Root", other.root_key, ca=True)
    other.inter = pki.issue("alt intermediate", other.inter_key, other.root, other.root_key, ca=True, days=10)
    chains[1] = (pki.pem(leaf) + pki.pem(other.inter)).decode()
    chosen, matched = acme_client.select_chain(chains, "Other Root")
    assert matched and chosen[1] == other.inter
    chosen, matched = acme_client.select_chain(chains, "No Such Root")
    assert not matched and chosen[1] == default.inter
    assert acme_client.select_chain(chains, None) == (chosen, True)
