#!/usr/bin/env python3
"""quirkcam: a small scripted RTSP/1.0 camera (Python stdlib only) that
reproduces the quirks of real IP cameras, for vigil's RTSP corpus tests.

It serves a pre-encoded H.264 or H.265 elementary stream (Annex B), and
optionally an AAC track (ADTS file), over RTP (RFC 6184, RFC 7798, RFC 3640),
TCP interleaved or UDP, paced in real time and looped with continuous
timestamps. Loopback only. Each quirk is an option (see --help). The URL is
printed on stdout ("quirkcam: serving rtsp://127.0.0.1:PORT/PATH"); what the
server sees and does is logged on stderr, one line per event, so a test can
read it (e.g. "session ... timed out", "stale nonce").

Without --video it encodes a 4 s test clip itself with Debian's ffmpeg.

What the quirks imitate:
- --stale-nonce / --nonce-lifetime: digest nonces that expire (cameras rotate
  them, some within seconds); RFC 2617's stale=TRUE says "same password, new
  nonce". ffmpeg's client retries a stale nonce only once per request and not
  when its very first authenticated try is the stale one.
- --session-timeout with --keepalive rtsp: cameras that count only RTSP
  requests (GET_PARAMETER/OPTIONS with the Session header) as keep-alive and
  ignore RTCP receiver reports, e.g. over TCP interleaved.
- --interleaved BASE: RFC 2326 lets the server answer another channel pair
  than the client asked; some cameras number channels per track (0-1, 2-3,
  ...) or from a base of their own whatever the request said.
- --no-content-base: no Content-Base and no session-level a=control, so the
  client must resolve "trackID=N" against the request URL as a directory.
- --no-sprop / --no-inband-params: parameter sets only in-band (each its own
  RTP packet, as H.265 cameras send VPS, SPS, PPS) or only in the SDP.
- --silent: answers everything, sends no media (a hung encoder).
- --garbage: answers everything, then sends RTP packets whose payloads are
  random bytes (a broken encoder or a corrupted link; bench/soak).
- --close-mid-frame: the connection drops in the middle of a fragmented frame.
"""
import argparse
import base64
import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

MTU = 1400
VIDEO_PT = 96
AUDIO_PT = 97
AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025,
             8000, 7350]


def log(*parts):
    print("quirkcam:", *parts, file=sys.stderr, flush=True)


# --- media ---------------------------------------------------------------

def split_annexb(data):
    """The NAL units of an Annex B byte stream, without start codes."""
    nals, i, n = [], 0, len(data)
    starts = []
    while True:
        j = data.find(b"\x00\x00\x01", i)
        if j < 0:
            break
        starts.append(j + 3)
        i = j + 3
    for k, s in enumerate(starts):
        end = starts[k + 1] - 3 if k + 1 < len(starts) else n
        nal = data[s:end]
        # A 4-byte start code leaves a trailing zero on the previous NAL.
        while nal.endswith(b"\x00") and k + 1 < len(starts):
            nal = nal[:-1]
        if nal:
            nals.append(nal)
    return nals


def nal_type(codec, nal):
    return nal[0] & 0x1F if codec == "h264" else (nal[0] >> 1) & 0x3F


def is_vcl(codec, t):
    return 1 <= t <= 5 if codec == "h264" else t < 32


def first_slice(codec, nal):
    # first_mb_in_slice == 0 / first_slice_segment_in_pic_flag: the top bit.
    return bool(nal[1 if codec == "h264" else 2] & 0x80)


def param_types(codec):
    return {7: "sps", 8: "pps"} if codec == "h264" else {32: "vps", 33: "sps", 34: "pps"}


def access_units(codec, nals):
    """Groups NAL units into access units (one picture each)."""
    aus, cur, has_vcl = [], [], False
    for nal in nals:
        t = nal_type(codec, nal)
        starts_new = False
        if is_vcl(codec, t):
            starts_new = has_vcl and first_slice(codec, nal)
        elif codec == "h264" and t in (6, 7, 8, 9):
            starts_new = has_vcl
        elif codec == "h265" and t in (32, 33, 34, 35, 39):
            starts_new = has_vcl
        if starts_new and cur:
            aus.append(cur)
            cur, has_vcl = [], False
        cur.append(nal)
        has_vcl = has_vcl or is_vcl(codec, t)
    if cur:
        aus.append(cur)
    return aus


def parse_adts(data):
    """(raw AAC frames, AudioSpecificConfig hex, sample rate, channels)."""
    frames, i, cfg = [], 0, None
    while i + 7 <= len(data):
        if data[i] != 0xFF or data[i + 1] & 0xF6 != 0xF0:
            raise ValueError("not an ADTS stream at byte %d" % i)
        protection_absent = data[i + 1] & 1
        profile = data[i + 2] >> 6
        sf_index = (data[i + 2] >> 2) & 0xF
        channels = ((data[i + 2] & 1) << 2) | (data[i + 3] >> 6)
        length = ((data[i + 3] & 3) << 11) | (data[i + 4] << 3) | (data[i + 5] >> 5)
        header = 7 if protection_absent else 9
        frames.append(data[i + header:i + length])
        cfg = cfg or (profile + 1, sf_index, channels)
        i += length
    obj, sf_index, channels = cfg
    asc = (obj << 11) | (sf_index << 7) | (channels << 3)
    return frames, "%04x" % asc, AAC_RATES[sf_index], channels


class Media:
    def __init__(self, video_path, codec, fps, audio_path=None):
        self.codec, self.fps = codec, fps
        with open(video_path, "rb") as f:
            nals = split_annexb(f.read())
        self.params = {}
        for nal in nals:
            name = param_types(codec).get(nal_type(codec, nal))
            if name and name not in self.params:
                self.params[name] = nal
        self.aus = access_units(codec, nals)
        if not self.aus or "sps" not in self.params:
            raise ValueError(f"{video_path}: no {codec} access units with parameter sets")
        self.audio = None
        if audio_path:
            with open(audio_path, "rb") as f:
                self.audio = parse_adts(f.read())

    def stripped_aus(self):
        """The access units without in-band parameter sets."""
        drop = set(param_types(self.codec))
        return [[n for n in au if nal_type(self.codec, n) not in drop] for au in self.aus]

    def fmtp(self, sprop):
        p = self.params
        b64 = lambda n: base64.b64encode(n).decode()
        if self.codec == "h264":
            f = "packetization-mode=1;profile-level-id=" + p["sps"][1:4].hex()
            if sprop:
                f += ";sprop-parameter-sets=%s,%s" % (b64(p["sps"]), b64(p["pps"]))
            return f
        return ";".join("sprop-%s=%s" % (k, b64(p[k])) for k in ("vps", "sps", "pps")) if sprop \
            else ""


def encode_clip(directory, codec, audio):
    """Encodes the default 4 s 640x360@25 clip (and AAC track) with ffmpeg."""
    video = os.path.join(directory, "clip." + ("264" if codec == "h264" else "265"))
    lib = {"h264": ["libx264", "-x264-params", "log-level=error"],
           "h265": ["libx265", "-x265-params", "log-level=error:repeat-headers=1"]}[codec]
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=640x360:rate=25", "-t", "4", "-pix_fmt", "yuv420p",
                    "-c:v", *lib, "-g", "25", "-bf", "0", "-b:v", "800k",
                    "-f", "hevc" if codec == "h265" else "h264", video], check=True)
    aac = None
    if audio:
        aac = os.path.join(directory, "clip.aac")
        # Noise, so that every AAC frame differs and a copy can be matched.
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        "anoisesrc=color=pink:sample_rate=48000:seed=7:amplitude=0.3",
                        "-t", "4", "-ac", "1", "-c:a", "aac", "-b:a", "64k", "-f", "adts", aac],
                       check=True)
    return video, aac


# --- RTP -----------------------------------------------------------------

def rtp_header(pt, seq, ts, ssrc, marker):
    return bytes([0x80, (0x80 if marker else 0) | pt]) + (seq & 0xFFFF).to_bytes(2, "big") + \
        (ts & 0xFFFFFFFF).to_bytes(4, "big") + ssrc.to_bytes(4, "big")


def packetize_nal(codec, nal):
    """RTP payloads for one NAL: single NAL unit packet or FU-A / H.265 FU."""
    if len(nal) <= MTU:
        return [nal]
    out = []
    if codec == "h264":
        head, body, t = bytes([(nal[0] & 0xE0) | 28]), nal[1:], nal[0] & 0x1F
    else:
        head = bytes([(nal[0] & 0x81) | (49 << 1), nal[1]])
        body, t = nal[2:], (nal[0] >> 1) & 0x3F
    chunks = [body[i:i + MTU] for i in range(0, len(body), MTU)]
    for k, chunk in enumerate(chunks):
        fu = t | (0x80 if k == 0 else 0) | (0x40 if k == len(chunks) - 1 else 0)
        out.append(head + bytes([fu]) + chunk)
    return out


def aac_payload(frame):
    # RFC 3640 AAC-hbr: AU-headers-length (16 bits), one AU-header 13+3 bits.
    return (16).to_bytes(2, "big") + (len(frame) << 3).to_bytes(2, "big") + frame


# --- RTSP ----------------------------------------------------------------

class Track:
    def __init__(self, index):
        self.index = index
        self.seq = random.randrange(1 << 16)
        self.ts0 = random.randrange(1 << 32)
        self.ssrc = random.randrange(1, 1 << 32)
        self.channel = None          # TCP interleaved RTP channel
        self.client = None           # UDP (host, rtp_port)
        self.rtp_sock = self.rtcp_sock = None

    def close(self):
        for s in (self.rtp_sock, self.rtcp_sock):
            if s:
                s.close()


class Session:
    def __init__(self, conn):
        self.id = "%08X" % random.randrange(1 << 32)
        self.conn = conn
        self.tracks = {}
        self.last_alive = time.monotonic()
        self.stop = threading.Event()
        self.thread = None


class Connection(threading.Thread):
    def __init__(self, server, sock, addr):
        super().__init__(daemon=True)
        self.server, self.sock, self.addr = server, sock, addr
        self.opts = server.opts
        self.send_lock = threading.Lock()
        self.session = None
        self.nonces = {}  # nonce -> when it was issued, oldest first
        self.closed = threading.Event()

    # -- plumbing

    def send(self, data):
        with self.send_lock:
            self.sock.sendall(data)

    def close(self):
        if self.closed.is_set():
            return
        self.closed.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def reply(self, cseq, code, reason, headers=(), body=b""):
        lines = [f"RTSP/1.0 {code} {reason}", f"CSeq: {cseq}", "Server: quirkcam"]
        lines += list(headers)
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def run(self):
        buf = b""
        self.sock.settimeout(None)
        try:
            while not self.closed.is_set():
                block = self.sock.recv(65536)
                if not block:
                    break
                buf += block
                while buf:
                    if buf[0:1] == b"$":
                        if len(buf) < 4:
                            break
                        n = int.from_bytes(buf[2:4], "big")
                        if len(buf) < 4 + n:
                            break
                        self.on_interleaved(buf[1], buf[4:4 + n])
                        buf = buf[4 + n:]
                        continue
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        if len(buf) > 65536:
                            log(f"{self.addr}: request too long, closing")
                            return
                        break
                    head = buf[:end].decode("utf-8", "replace")
                    headers = {}
                    for line in head.split("\r\n")[1:]:
                        k, _, v = line.partition(":")
                        headers[k.strip().lower()] = v.strip()
                    try:
                        length = int(headers.get("content-length", "0"))
                    except ValueError:
                        length = 0
                    if len(buf) < end + 4 + length:
                        break
                    body = buf[end + 4:end + 4 + length]
                    buf = buf[end + 4 + length:]
                    if not self.on_request(head.split("\r\n")[0], headers, body):
                        return
        except OSError as e:
            log(f"{self.addr}: connection error: {e}")
        finally:
            self.teardown()
            self.close()
            log(f"{self.addr}: connection closed")

    def teardown(self):
        s, self.session = self.session, None
        if s:
            s.stop.set()
            if s.thread and s.thread is not threading.current_thread():
                s.thread.join(5)
            for t in s.tracks.values():
                t.close()

    def on_interleaved(self, channel, data):
        s = self.session
        if s and channel % 2 == 1:
            if self.opts.keepalive == "any":
                s.last_alive = time.monotonic()
            log(f"RTCP from client on channel {channel}")

    # -- requests

    def on_request(self, line, headers, body):
        parts = line.split()
        cseq = headers.get("cseq", "0")
        if len(parts) != 3 or not parts[2].startswith("RTSP/"):
            log(f"{self.addr}: garbage request {line[:60]!r}")
            self.reply(cseq, 400, "Bad Request")
            return True
        method, url = parts[0].upper(), parts[1]
        log(f"{self.addr}: {method} {url}")
        if method != "OPTIONS" and not self.authorized(method, headers, cseq):
            return True
        # Only an accepted request carrying the session keeps it alive.
        session = self.session
        if session and headers.get("session", "").split(";")[0] == session.id:
            session.last_alive = time.monotonic()
        if method == "OPTIONS":
            self.reply(cseq, 200, "OK", ["Public: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, "
                                         "TEARDOWN, GET_PARAMETER, SET_PARAMETER"])
            return True
        path = url.split("://", 1)[-1].partition("/")[2].split("?")[0]
        base = self.opts.path.strip("/")
        if not (path == base or path.startswith(base + "/")):
            self.reply(cseq, 404, "Not Found")
            return True
        handler = getattr(self, "do_" + method, None)
        if not handler:
            self.reply(cseq, 405, "Method Not Allowed")
            return True
        return handler(cseq, url, headers, body)

    def authorized(self, method, headers, cseq):
        opts = self.opts
        if not opts.user:
            return True
        user, _, password = opts.user.partition(":")
        given = headers.get("authorization", "")
        if opts.auth == "basic":
            want = base64.b64encode(f"{user}:{password}".encode()).decode()
            if given == "Basic " + want:
                return True
            log(f"{self.addr}: {method} unauthorized (basic)")
            self.reply(cseq, 401, "Unauthorized", ['WWW-Authenticate: Basic realm="quirkcam"'])
            return False
        stale = False
        if given.startswith("Digest "):
            p = parse_auth_params(given[7:])
            nonce = p.get("nonce", "")
            ha1 = md5(f"{user}:quirkcam:{password}")
            ha2 = md5(f"{method}:{p.get('uri', '')}")
            ok = p.get("username") == user and p.get("response") == md5(f"{ha1}:{nonce}:{ha2}")
            if ok and nonce in self.nonces:
                age = time.monotonic() - self.nonces[nonce]
                if opts.stale_nonce and nonce == next(iter(self.nonces)):
                    stale = True
                    log(f"{self.addr}: {method} with the first nonce: answering stale=true")
                elif opts.nonce_lifetime is not None and age > opts.nonce_lifetime:
                    stale = True
                    log(f"{self.addr}: {method} with a nonce {age:.1f} s old: "
                        "answering stale=true")
                else:
                    return True
            else:
                log(f"{self.addr}: {method} unauthorized (digest, nonce known: "
                    f"{nonce in self.nonces})")
        nonce = os.urandom(16).hex()
        self.nonces[nonce] = time.monotonic()
        challenge = f'Digest realm="quirkcam", nonce="{nonce}"' + (", stale=TRUE" if stale else "")
        self.reply(cseq, 401, "Unauthorized", ["WWW-Authenticate: " + challenge])
        return False

    def base_url(self):
        return f"rtsp://127.0.0.1:{self.server.port}/{self.opts.path.strip('/')}/"

    def sdp(self):
        m = self.server.media
        sid = random.randrange(1 << 31)
        lines = ["v=0", f"o=- {sid} 1 IN IP4 127.0.0.1", "s=quirkcam", "c=IN IP4 0.0.0.0",
                 "t=0 0", *([] if self.opts.no_content_base else ["a=control:*"]),
                 "a=range:npt=0-",
                 f"m=video 0 RTP/AVP {VIDEO_PT}",
                 f"a=rtpmap:{VIDEO_PT} {'H264' if m.codec == 'h264' else 'H265'}/90000"]
        fmtp = m.fmtp(sprop=not self.opts.no_sprop)
        if fmtp:
            lines.append(f"a=fmtp:{VIDEO_PT} {fmtp}")
        lines += [f"a=framerate:{m.fps}", "a=control:trackID=0"]
        if m.audio:
            _, config, rate, channels = m.audio
            lines += [f"m=audio 0 RTP/AVP {AUDIO_PT}",
                      f"a=rtpmap:{AUDIO_PT} MPEG4-GENERIC/{rate}/{channels}",
                      f"a=fmtp:{AUDIO_PT} streamtype=5;profile-level-id=1;mode=AAC-hbr;"
                      f"sizelength=13;indexlength=3;indexdeltalength=3;config={config}",
                      "a=control:trackID=1"]
        return ("\r\n".join(lines) + "\r\n").encode()

    def do_DESCRIBE(self, cseq, url, headers, body):
        headers = ["Content-Type: application/sdp"]
        if not self.opts.no_content_base:
            headers.append(f"Content-Base: {self.base_url()}")
        self.reply(cseq, 200, "OK", headers, self.sdp())
        return True

    def do_SETUP(self, cseq, url, headers, body):
        opts = self.opts
        index = 1 if url.rstrip("/").endswith("trackID=1") and self.server.media.audio else 0
        transport = headers.get("transport", "")
        spec = transport.split(",")[0]
        fields = dict((f.partition("=")[0].strip().lower(), f.partition("=")[2].strip())
                      for f in spec.split(";"))
        tcp = spec.upper().startswith("RTP/AVP/TCP")
        if (tcp and opts.transport == "udp") or (not tcp and opts.transport == "tcp") or \
                "multicast" in fields or (not tcp and "client_port" not in fields):
            self.reply(cseq, 461, "Unsupported Transport")
            return True
        if self.session is None:
            self.session = Session(self)
        elif headers.get("session", "").split(";")[0] != self.session.id:
            self.reply(cseq, 454, "Session Not Found")
            return True
        s = self.session
        t = s.tracks.get(index) or Track(index)
        s.tracks[index] = t
        if tcp:
            if opts.interleaved is not None:
                # Like cameras that number channels per track whatever the
                # client asked: the client must use the pair we answer.
                t.channel = opts.interleaved + 2 * index
            else:
                try:
                    t.channel = int(fields.get("interleaved", "").split("-")[0])
                except ValueError:
                    t.channel = 2 * index
            reply = f"RTP/AVP/TCP;unicast;interleaved={t.channel}-{t.channel + 1}"
        else:
            try:
                cport = int(fields["client_port"].split("-")[0])
            except ValueError:
                self.reply(cseq, 461, "Unsupported Transport")
                return True
            t.client = ("127.0.0.1", cport)
            t.rtp_sock, t.rtcp_sock = udp_pair()
            sport = t.rtp_sock.getsockname()[1]
            reply = (f"RTP/AVP;unicast;client_port={cport}-{cport + 1};"
                     f"server_port={sport}-{sport + 1};ssrc={t.ssrc:08X}")
        log(f"{self.addr}: SETUP track {index} asked {transport!r}, answered {reply!r}")
        self.reply(cseq, 200, "OK", [f"Transport: {reply}",
                                     f"Session: {s.id};timeout={opts.session_timeout}"])
        return True

    def do_PLAY(self, cseq, url, headers, body):
        s = self.session
        if not s or headers.get("session", "").split(";")[0] != s.id or not s.tracks:
            self.reply(cseq, 454, "Session Not Found")
            return True
        info = ",".join(f"url={self.base_url()}trackID={t.index};seq={t.seq};rtptime={t.ts0}"
                        for t in s.tracks.values())
        self.reply(cseq, 200, "OK", [f"Session: {s.id};timeout={self.opts.session_timeout}",
                                     "Range: npt=0.000-", f"RTP-Info: {info}"])
        if not s.thread:
            s.last_alive = time.monotonic()
            s.thread = threading.Thread(target=Sender(self, s).run, daemon=True)
            s.thread.start()
        return True

    def do_PAUSE(self, cseq, url, headers, body):
        self.reply(cseq, 200, "OK", [f"Session: {self.session.id}"] if self.session else [])
        return True

    def do_TEARDOWN(self, cseq, url, headers, body):
        self.reply(cseq, 200, "OK")
        self.teardown()
        return True

    def do_GET_PARAMETER(self, cseq, url, headers, body):
        self.reply(cseq, 200, "OK", [f"Session: {self.session.id}"] if self.session else [])
        return True

    do_SET_PARAMETER = do_GET_PARAMETER


def parse_auth_params(text):
    out, i = {}, 0
    while i < len(text):
        eq = text.find("=", i)
        if eq < 0:
            break
        key = text[i:eq].strip(" ,").lower()
        if eq + 1 < len(text) and text[eq + 1] == '"':
            end = text.find('"', eq + 2)
            end = len(text) if end < 0 else end
            out[key], i = text[eq + 2:end], end + 1
        else:
            end = text.find(",", eq)
            end = len(text) if end < 0 else end
            out[key], i = text[eq + 1:end].strip(), end + 1
    return out


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def udp_pair():
    """Two UDP sockets on consecutive loopback ports, the first even."""
    for _ in range(100):
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        a.bind(("127.0.0.1", 0))
        port = a.getsockname()[1]
        if port % 2 == 0:
            b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                b.bind(("127.0.0.1", port + 1))
                b.setblocking(False)
                return a, b
            except OSError:
                b.close()
        a.close()
    raise OSError("no free UDP port pair")


class Sender:
    """Paces one session's RTP in real time: video frames at the clip's rate,
    AAC frames at theirs, timestamps continuous across loops."""

    def __init__(self, conn, session):
        self.conn, self.s, self.opts = conn, session, conn.opts
        media = conn.server.media
        self.media = media
        self.aus = media.stripped_aus() if self.opts.no_inband_params else media.aus

    def emit(self, track, payload, ts, marker):
        hdr = rtp_header(VIDEO_PT if track.index == 0 else AUDIO_PT, track.seq, track.ts0 + ts,
                         track.ssrc, marker)
        track.seq += 1
        packet = hdr + payload
        if track.channel is not None:
            self.conn.send(b"$" + bytes([track.channel]) + len(packet).to_bytes(2, "big") + packet)
        else:
            track.rtp_sock.sendto(packet, track.client)

    def poll_rtcp(self):
        for t in self.s.tracks.values():
            if t.rtcp_sock:
                try:
                    while t.rtcp_sock.recv(2048):
                        if self.opts.keepalive == "any":
                            self.s.last_alive = time.monotonic()
                except (BlockingIOError, OSError):
                    pass

    def run(self):
        s, opts, media = self.s, self.opts, self.media
        video = s.tracks.get(0)
        audio = s.tracks.get(1) if media.audio else None
        start = time.monotonic()
        vi = ai = 0
        try:
            while not s.stop.is_set():
                now = time.monotonic()
                self.poll_rtcp()
                if now - s.last_alive > opts.session_timeout:
                    log(f"session {s.id} timed out: no keep-alive for "
                        f"{opts.session_timeout} s, dropping the client")
                    self.conn.close()
                    return
                if opts.silent:
                    s.stop.wait(0.2)
                    continue
                if opts.garbage and video:
                    # Valid RTP headers, random payloads at about 1 Mbit/s:
                    # what a broken encoder or a corrupted link delivers.
                    for k in range(10):
                        self.emit(video, os.urandom(random.randrange(12, MTU)),
                                  vi * 90000 // media.fps, k == 9)
                    vi += 1
                    s.stop.wait(1 / media.fps)
                    continue
                tv = start + vi / media.fps if video else float("inf")
                ta = start + ai * 1024 / media.audio[2] if audio else float("inf")
                due = min(tv, ta)
                if due > now:
                    s.stop.wait(min(due - now, 0.2))
                    continue
                if tv <= ta:
                    au = self.aus[vi % len(self.aus)]
                    packets = [p for nal in au for p in packetize_nal(media.codec, nal)]
                    ts = vi * 90000 // media.fps
                    if opts.close_mid_frame is not None and now - start >= opts.close_mid_frame \
                            and len(packets) >= 3:
                        for p in packets[:len(packets) // 2]:
                            self.emit(video, p, ts, False)
                        log(f"session {s.id}: closing the connection in the middle of frame "
                            f"{vi} ({len(packets) // 2} of {len(packets)} packets sent)")
                        self.conn.close()
                        return
                    for k, p in enumerate(packets):
                        self.emit(video, p, ts, k == len(packets) - 1)
                    vi += 1
                else:
                    frames = media.audio[0]
                    self.emit(audio, aac_payload(frames[ai % len(frames)]), ai * 1024, True)
                    ai += 1
        except OSError as e:
            log(f"session {s.id}: send failed: {e}")
            self.conn.close()


class Server:
    def __init__(self, opts, media):
        self.opts, self.media = opts, media
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", opts.port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def serve_forever(self):
        while True:
            try:
                sock, addr = self.sock.accept()
            except OSError as e:
                log(f"accept failed: {e}")
                time.sleep(0.1)
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            log(f"{addr}: connected")
            Connection(self, sock, addr).start()


def main(argv=None):
    p = argparse.ArgumentParser(
        description="A scripted RTSP camera with the quirks of real ones (loopback only).")
    p.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    p.add_argument("--path", default="stream", help="stream path (default: stream)")
    p.add_argument("--video", help="Annex B H.264/H.265 file (default: encode a 4 s clip)")
    p.add_argument("--codec", choices=("h264", "h265"), default="h264")
    p.add_argument("--fps", type=int, default=25, help="frame rate of --video (default 25)")
    p.add_argument("--audio", nargs="?", const="", default=None,
                   help="ADTS AAC file to serve as a second track (no value: encode one)")
    p.add_argument("--transport", choices=("any", "tcp", "udp"), default="any",
                   help="transports accepted in SETUP (others get 461)")
    p.add_argument("--user", help="USER:PASS required for everything but OPTIONS")
    p.add_argument("--auth", choices=("basic", "digest"), default="digest")
    p.add_argument("--stale-nonce", action="store_true",
                   help="digest: a request with the connection's first nonce gets 401 stale=TRUE")
    p.add_argument("--nonce-lifetime", type=float, metavar="SECONDS",
                   help="digest: a nonce older than this is answered 401 stale=TRUE (the "
                        "client must retry with the new one, credentials unchanged)")
    p.add_argument("--session-timeout", type=int, default=60,
                   help="seconds announced in Session:; a client without keep-alive is dropped")
    p.add_argument("--keepalive", choices=("any", "rtsp"), default="any",
                   help="what keeps a session alive: 'any' = RTSP requests and RTCP (default), "
                        "'rtsp' = only RTSP requests carrying the session (RTCP ignored)")
    p.add_argument("--no-sprop", action="store_true",
                   help="no parameter sets in the SDP (in-band only)")
    p.add_argument("--no-inband-params", action="store_true",
                   help="strip parameter sets from the stream (SDP sprop-* only)")
    p.add_argument("--interleaved", type=int, metavar="BASE",
                   help="answer interleaved=BASE+2n-BASE+2n+1 for track n, ignoring the request")
    p.add_argument("--no-content-base", action="store_true",
                   help="no Content-Base in DESCRIBE and no session-level a=control: "
                        "the SDP's relative controls (trackID=N) are relative to the request URL, which has no trailing "
                        "slash; SETUP must name PATH/trackID=N (as rtsp-server-perl and "
                        "some cameras expect)")
    p.add_argument("--silent", action="store_true",
                   help="answer DESCRIBE/SETUP/PLAY, then send no media at all")
    p.add_argument("--mtu", type=int, default=MTU,
                   help=f"largest RTP payload (default {MTU}; over ~1500 over UDP: IP fragments)")
    p.add_argument("--garbage", action="store_true",
                   help="answer DESCRIBE/SETUP/PLAY, then send RTP packets of random bytes")
    p.add_argument("--close-mid-frame", type=float, metavar="SECONDS",
                   help="after SECONDS of media, send half of a frame's packets and close")
    opts = p.parse_args(argv)
    globals()["MTU"] = opts.mtu  # packetize_nal's
    tmp = None
    if not opts.video or opts.audio == "":
        tmp = tempfile.mkdtemp(prefix="quirkcam-")
        video, aac = encode_clip(tmp, opts.codec, opts.audio == "")
        opts.video = opts.video or video
        if opts.audio == "":
            opts.audio = aac
    media = Media(opts.video, opts.codec, opts.fps, opts.audio)
    server = Server(opts, media)
    quirks = [k for k in ("stale_nonce", "no_sprop", "no_inband_params", "silent", "garbage")
              if getattr(opts, k)]
    print(f"quirkcam: serving rtsp://127.0.0.1:{server.port}/{opts.path.strip('/')} "
          f"({opts.codec}, {len(media.aus)} frames@{opts.fps}"
          f"{', aac' if media.audio else ''}{', ' + ', '.join(quirks) if quirks else ''})",
          flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if tmp:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
