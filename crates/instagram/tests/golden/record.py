"""Drive the reference client, instagrapi, against `icf sim instagram --proxy` and write
one golden trace per scenario (JSON lines, the simulator's recording format).

Run through `record.sh`, which makes a throwaway virtualenv with the pinned instagrapi and
starts the simulator. Also used by CI as the acceptance test of the simulator: every
scenario must end the way the real Instagram would let it end (logged in, published, …),
and the simulator must have recorded each publish in `/__sim/media`.

    python record.py --proxy http://127.0.0.1:PORT --ca sim.pem --out DIR [--check-only]

Nothing here changes instagrapi: it is configured only as a user would configure it for a
real account (a proxy, a trusted certificate, its own settings and delays).
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import sys
import time
from pathlib import Path

import requests
from instagrapi import Client
from instagrapi import __version__ as INSTAGRAPI_VERSION
from instagrapi.exceptions import UserNotFound
from instagrapi.types import UserShort, Usertag
from PIL import Image

PASSWORD = "golden-Passw0rd"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # base32, as Instagram's authenticator setup gives it
CODE = "123456"  # what the simulator "sends" for challenges

SCENARIOS = []


def scenario(fn):
    SCENARIOS.append(fn)
    return fn


class Sim:
    """The simulator's control endpoints, reached through the same proxy as Instagram."""

    def __init__(self, proxy, ca):
        self.http = requests.Session()
        self.http.proxies = {"http": proxy, "https": proxy}
        self.http.verify = ca
        self.base = "https://i.instagram.com"

    def account(self, username, **extra):
        body = {"username": username, "password": PASSWORD, **extra}
        r = self.http.post(f"{self.base}/__sim/accounts", json=body, timeout=30)
        r.raise_for_status()

    def start_trace(self):
        self.http.post(f"{self.base}/__sim/trace", timeout=30).raise_for_status()

    def trace(self):
        r = self.http.get(f"{self.base}/__sim/trace", timeout=30)
        r.raise_for_status()
        return r.json()["requests"]

    def venue(self, name, address, lat, lng):
        body = {"name": name, "address": address, "lat": lat, "lng": lng}
        r = self.http.post(f"{self.base}/__sim/venues", json=body, timeout=30)
        r.raise_for_status()
        return r.json()

    def media(self, username):
        r = self.http.get(f"{self.base}/__sim/media", params={"username": username}, timeout=30)
        r.raise_for_status()
        return r.json()["items"]


def client(args, settings=None):
    cl = Client(settings=settings, proxy=args.proxy, tls_verify=args.ca)
    # instagrapi sleeps `request_timeout` (1 s) before each request; a trace does not
    # depend on it.
    cl.request_timeout = 0
    cl.delay_range = None
    cl.challenge_code_handler = lambda username, choice: CODE
    return cl


def logged_in(args, sim, username, **extra):
    sim.account(username, **extra)
    cl = client(args)
    cl.login(username, PASSWORD)
    return cl


def media_files(workdir):
    """A JPEG photo, a 1080x1350 photo, a cover, and two 3-second H.264 videos made by ffmpeg,
    kept in `media/` beside this script (committed) so that icf's conformance tests send the
    very same files; a missing one is made again."""
    workdir.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, size, colour in [
        ("photo.jpg", (1080, 1080), (200, 40, 40)),
        ("photo2.jpg", (1080, 1350), (40, 200, 40)),
        ("cover.jpg", (1080, 1920), (40, 40, 200)),
    ]:
        path = workdir / name
        if not path.exists():
            Image.new("RGB", size, colour).save(path, "JPEG", quality=90)
        files[name] = path
    for name, size in [("video.mp4", "720x720"), ("reel.mp4", "720x1280")]:
        path = workdir / name
        files[name] = path
        if path.exists():
            continue
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=30",
             "-f", "lavfi", "-i", "sine=frequency=440", "-t", "3", "-c:v", "libx264",
             "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
            check=True,
        )
    return files


# --- scenarios: each returns a short description of how it ended, checked by the caller ---


@scenario
def caa_login(args, sim, files):
    """The full CAA (Bloks) login of a fresh client, then the app's warm-up feeds."""
    cl = logged_in(args, sim, "golden_caa")
    assert cl.user_id, "no session after the CAA login"
    return {"user_id": str(cl.user_id)}


@scenario
def legacy_login(args, sim, files):
    """CAA answers CAA_LOGIN_FALLBACK; the legacy accounts/login/ completes the login."""
    cl = logged_in(args, sim, "golden_legacy", faults={"caa_fallback": True})
    assert cl.user_id, "no session after the legacy login"
    return {"user_id": str(cl.user_id)}


@scenario
def two_factor_totp(args, sim, files):
    """A TOTP two-factor account: CAA falls back, the legacy login asks for the code."""
    sim.account("golden_totp", totp_secret=TOTP_SECRET)
    cl = client(args)
    code = cl.totp_generate_code(TOTP_SECRET)
    cl.login("golden_totp", PASSWORD, verification_code=code)
    assert cl.user_id, "no session after two-factor login"
    return {"user_id": str(cl.user_id)}


@scenario
def challenge_email(args, sim, files):
    """An email-code challenge at login, answered with the code the simulator sent."""
    sim.account("golden_challenge", faults={"challenge": "email", "code": CODE})
    cl = client(args)
    cl.login("golden_challenge", PASSWORD)
    assert cl.user_id, "no session after the challenge"
    return {"user_id": str(cl.user_id)}


@scenario
def session_check(args, sim, files):
    """A saved session reloaded and checked (accounts/current_user/), no password sent."""
    first = logged_in(args, sim, "golden_session")
    settings = first.get_settings()
    sim.start_trace()  # only the reuse is the scenario
    cl = client(args, settings=settings)
    cl.login("golden_session", PASSWORD)
    return {"user_id": str(cl.user_id)}


def publish(args, sim, username, upload):
    cl = logged_in(args, sim, username)
    sim.start_trace()  # only the publish is the scenario
    media = upload(cl)
    items = sim.media(username)
    assert len(items) == 1, f"the simulator recorded {len(items)} media for {username}"
    return {"media_type": items[0]["media_type"], "code": media.code}


@scenario
def photo(args, sim, files):
    """A photo post with a caption."""
    return publish(args, sim, "golden_photo",
                   lambda cl: cl.photo_upload(files["photo.jpg"], "Golden photo #icf"))


@scenario
def carousel(args, sim, files):
    """A carousel of two photos and a video."""
    return publish(args, sim, "golden_carousel",
                   lambda cl: cl.album_upload(
                       [files["photo.jpg"], files["photo2.jpg"], files["video.mp4"]],
                       "Golden carousel #icf"))


@scenario
def video(args, sim, files):
    """A feed video with its cover."""
    return publish(args, sim, "golden_video",
                   lambda cl: cl.video_upload(files["video.mp4"], "Golden video #icf",
                                              thumbnail=files["cover.jpg"]))


@scenario
def reel(args, sim, files):
    """A reel with a cover image."""
    return publish(args, sim, "golden_reel",
                   lambda cl: cl.clip_upload(files["reel.mp4"], "Golden reel #icf",
                                             thumbnail=files["cover.jpg"]))


# --- post options: people to tag and invite, places to find (the same in icf's tests) ---

POINT = (40.7128, -74.006)
FRIEND_A, FRIEND_B, COLLAB = "golden_friend_a", "golden_friend_b", "golden_collab"


def people_and_places(sim):
    """The users a post tags or invites and the venues location_search finds near POINT:
    the nearest, one 350 m north, one 5 km away (not found)."""
    for name in (FRIEND_A, FRIEND_B, COLLAB):
        sim.account(name)
    sim.venue("Golden Cafe", "1 Main St", 40.7128, -74.006)
    sim.venue("Golden Park", "2 Park Ave", 40.7160, -74.006)
    sim.venue("Far Away Diner", "9 Elsewhere Rd", 40.7578, -74.006)


def tag(pk, x, y):
    return Usertag(user=UserShort(pk=pk), x=x, y=y)


def publish_with_options(args, sim, username, upload):
    """Logs in, then traces the lookups and the publish `upload(cl)` makes; returns the
    simulator's record of the post."""
    people_and_places(sim)
    cl = logged_in(args, sim, username)
    sim.start_trace()
    media = upload(cl)
    items = sim.media(username)
    assert len(items) == 1, f"the simulator recorded {len(items)} media for {username}"
    item = items[0]
    assert item["code"] == media.code
    return item


def summary(item):
    keys = ["media_type", "accessibility_captions", "coauthors", "comments_disabled",
            "like_and_view_counts_disabled", "share_to_feed"]
    out = {k: item[k] for k in keys}
    out["location"] = item["location"] and item["location"]["name"]
    out["usertags"] = [[t["username"], t["media_index"]] for t in item["usertags"]]
    return out


@scenario
def photo_options(args, sim, files):
    """A photo with alt text, a venue found by location_search, two people tagged (found by
    username, one with instagrapi's normalisation), a collaborator, comments off and like
    counts hidden: what instagrapi has no parameter for goes through extra_data."""

    def upload(cl):
        venue = cl.location_search(*POINT)[0]
        a = cl.user_id_from_username(" @Golden_Friend_A ")
        b = cl.user_info_by_username_v1(FRIEND_B).pk
        collab = cl.user_id_from_username(COLLAB)
        return cl.photo_upload(
            files["photo.jpg"], "Golden photo with options #icf",
            usertags=[tag(a, 0.25, 0.5), tag(b, 0.75, 0.125)],
            location=venue,
            extra_data={"custom_accessibility_caption": "A red square",
                        "disable_comments": 1, "like_and_view_counts_disabled": 1},
            coauthor_user_ids=[collab])

    item = publish_with_options(args, sim, "golden_photo_options", upload)
    assert item["accessibility_captions"] == ["A red square"], item
    assert item["location"]["name"] == "Golden Cafe", item
    assert [t["username"] for t in item["usertags"]] == [FRIEND_A, FRIEND_B], item
    assert item["coauthors"] == [COLLAB], item
    assert item["comments_disabled"] and item["like_and_view_counts_disabled"], item
    return summary(item)


@scenario
def first_comment(args, sim, files):
    """A photo, then its first comment, pinned, and the first page of its comments (how icf
    tells after a crash whether the comment was posted)."""
    cl = logged_in(args, sim, "golden_comment")
    sim.start_trace()
    media = cl.photo_upload(files["photo.jpg"], "Golden photo with a first comment #icf")
    comment = cl.media_comment(media.id, "First! \U0001f44b #icf")
    assert cl.comment_pin(media.id, comment.pk)
    comments = cl.media_comments(media.id)
    assert [c.pk for c in comments] == [comment.pk], comments
    item = sim.media("golden_comment")[0]
    assert [(c["text"], c["pinned"]) for c in item["comments"]] == [(comment.text, True)], item
    return {"comment": comment.text, "pinned": True}


@scenario
def carousel_options(args, sim, files):
    """A carousel with people tagged per item (instagrapi's nested list), alt text per item
    (added to each item's dict by a configure_handler: instagrapi has no parameter for it),
    a venue, a collaborator and like counts hidden."""
    alt_texts = ["A red square", None, "A test pattern"]

    def upload(cl):
        venue = cl.location_search(*POINT)[0]
        a = cl.user_info_by_username_v1(FRIEND_A).pk
        b = cl.user_info_by_username_v1(FRIEND_B).pk
        collab = cl.user_info_by_username_v1(COLLAB).pk

        def with_alt_texts(childs, caption, usertags, location, extra_data):
            for child, alt in zip(childs, alt_texts):
                if alt:
                    child["custom_accessibility_caption"] = alt
            return cl.album_configure(childs, caption, usertags, location, extra_data=extra_data)

        return cl.album_upload(
            [files["photo.jpg"], files["photo2.jpg"], files["video.mp4"]],
            "Golden carousel with options #icf",
            usertags=[[tag(a, 0.5, 0.5)], [], [tag(b, 0.1, 0.9), tag(a, 0.9, 0.1)]],
            location=venue,
            configure_handler=with_alt_texts,
            extra_data={"like_and_view_counts_disabled": 1},
            coauthor_user_ids=[collab])

    item = publish_with_options(args, sim, "golden_carousel_options", upload)
    assert item["accessibility_captions"] == alt_texts, item
    assert [t["media_index"] for t in item["usertags"]] == [0, 2, 2], item
    assert item["coauthors"] == [COLLAB] and item["like_and_view_counts_disabled"], item
    return summary(item)


@scenario
def reel_options(args, sim, files):
    """A reel kept out of the profile grid, with a cover, a person tagged, a venue, and alt
    text, comments off and a collaborator through extra_data (clip_upload has no parameter
    for them)."""

    def upload(cl):
        venue = cl.location_search(*POINT)[0]
        a = cl.user_info_by_username_v1(FRIEND_A).pk
        collab = cl.user_info_by_username_v1(COLLAB).pk
        return cl.clip_upload(
            files["reel.mp4"], "Golden reel with options #icf", thumbnail=files["cover.jpg"],
            usertags=[tag(a, 0.5, 0.25)], location=venue, show_preview_in_feed=False,
            extra_data={"custom_accessibility_caption": "A test pattern", "disable_comments": 1,
                        "invite_coauthor_user_ids": [collab]})

    item = publish_with_options(args, sim, "golden_reel_options", upload)
    assert item["share_to_feed"] is False and item["cover"], item
    assert item["coauthors"] == [COLLAB] and item["comments_disabled"], item
    return summary(item)


@scenario
def video_options(args, sim, files):
    """A feed video with two people tagged (its usertags are written compact), a venue and
    alt text."""

    def upload(cl):
        venue = cl.location_search(*POINT)[0]
        a = cl.user_info_by_username_v1(FRIEND_A).pk
        b = cl.user_info_by_username_v1(FRIEND_B).pk
        return cl.video_upload(
            files["video.mp4"], "Golden video with options #icf", thumbnail=files["cover.jpg"],
            usertags=[tag(a, 0.5, 0.5), tag(b, 1.0, 0.0)], location=venue,
            extra_data={"custom_accessibility_caption": "A moving test pattern"})

    item = publish_with_options(args, sim, "golden_video_options", upload)
    assert len(item["usertags"]) == 2 and item["location"], item
    return summary(item)


@scenario
def story_photo(args, sim, files):
    """A photo story with a caption."""
    cl = logged_in(args, sim, "golden_story_photo")
    sim.start_trace()
    story = cl.photo_upload_to_story(files["cover.jpg"], "Golden story #icf")
    item = sim.media("golden_story_photo")[0]
    assert (item["media_type"], item["story_kind"]) == ("story", "photo"), item
    return {"story_kind": item["story_kind"], "caption": item["caption"], "pk": str(story.pk)}


@scenario
def story_video(args, sim, files):
    """A video story: instagrapi drops its caption and uploads no cover."""
    cl = logged_in(args, sim, "golden_story_video")
    sim.start_trace()
    story = cl.video_upload_to_story(files["reel.mp4"], "Golden story video #icf",
                                     thumbnail=files["cover.jpg"])
    item = sim.media("golden_story_video")[0]
    assert (item["media_type"], item["story_kind"], item["caption"]) == ("story", "video", ""), item
    return {"story_kind": item["story_kind"], "pk": str(story.pk)}


@scenario
def user_lookup(args, sim, files):
    """A username's user id through the private API, and a username nobody has."""
    people_and_places(sim)
    cl = logged_in(args, sim, "golden_lookup")
    sim.start_trace()
    pk = cl.user_info_by_username_v1(FRIEND_A).pk
    try:
        cl.user_info_by_username_v1("golden_nobody")
    except UserNotFound:
        pass
    else:
        raise AssertionError("an unknown username was found")
    return {"found": bool(pk), "unknown": "UserNotFound"}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--proxy", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--out", help="write DIR/<scenario>.jsonl")
    p.add_argument("--only", nargs="*", help="scenario names")
    p.add_argument("--media", default=str(Path(__file__).parent / "media"))
    args = p.parse_args()
    sim = Sim(args.proxy, args.ca)
    failed = 0
    files = media_files(Path(args.media))
    # instagrapi writes thumbnails beside the videos: give it copies, keep media/ as committed.
    work = Path(tempfile.mkdtemp())
    files = {name: Path(shutil.copy(path, work / name)) for name, path in files.items()}
    for fn in SCENARIOS:
        if args.only and fn.__name__ not in args.only:
            continue
        sim.start_trace()
        started = time.monotonic()
        try:
            outcome = fn(args, sim, files)
        except Exception as e:  # a refusal by the simulator is this test's failure
            failed += 1
            print(f"FAIL {fn.__name__}: {type(e).__name__}: {e}", flush=True)
            if os.environ.get("ICF_TRACE_FAILURES"):
                print(json.dumps(sim.trace(), indent=1)[-3000:])
            continue
        trace = sim.trace()
        took = time.monotonic() - started
        print(f"ok   {fn.__name__}: {len(trace)} requests, {took:.1f}s, {json.dumps(outcome)}", flush=True)
        if args.out:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            with open(out / f"{fn.__name__}.jsonl", "w") as f:
                for entry in trace:
                    f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    total = len([s for s in SCENARIOS if not args.only or s.__name__ in args.only])
    print(f"instagrapi {INSTAGRAPI_VERSION}")
    print(f"instagrapi: {total - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
