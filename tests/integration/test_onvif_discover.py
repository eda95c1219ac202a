"""POST /api/v1/onvif/discover: WS-Discovery on loopback (vigil runs with
VIGIL_ONVIF_DISCOVER_LOOPBACK=1; Linux's lo carries multicast when the sender
names it with IP_MULTICAST_IF, MULTICAST flag or not). Two vigil-fakecams
with --onvif, on their own loopback addresses, are found with their device
service URLs and the manufacturer and model of their scopes; one without
--onvif is not. A responder in this test answers each Probe with a wrong
RelatesTo, a printer, garbage and one valid device with unusual prefixes,
escaped scopes and several XAddrs: only the last is listed. A camera made
from a fakecam's stream is named; concurrent requests share one run; only
admins may discover. Probed directly, the fakecams answer a Probe for video
transmitters and ignore one for printers."""
import socket
import threading
import time
import unittest
import uuid

import harness
from harness import Fakecam, Vigil

DISCOVER = "/api/v1/onvif/discover"
GROUP, WSD_PORT = "239.255.255.250", 3702

MATCHES = """<?xml version="1.0"?>
<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"
 xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing"
 xmlns:q="http://schemas.xmlsoap.org/ws/2005/04/discovery"
 xmlns:nvt="http://www.onvif.org/ver10/network/wsdl"
 xmlns:p="http://schemas.microsoft.com/windows/2006/08/wdp/print">
<e:Header><w:MessageID>urn:uuid:{uuid}</w:MessageID><w:RelatesTo>{relates_to}</w:RelatesTo>
<w:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</w:Action></e:Header>
<e:Body><q:ProbeMatches><q:ProbeMatch>
<w:EndpointReference><w:Address>urn:uuid:{uuid}</w:Address></w:EndpointReference>
<q:Types>{types}</q:Types>
<q:Scopes>onvif://www.onvif.org/name/{name} onvif://www.onvif.org/hardware/{model}</q:Scopes>
<q:XAddrs>{xaddrs}</q:XAddrs><q:MetadataVersion>1</q:MetadataVersion>
</q:ProbeMatch></q:ProbeMatches></e:Body></e:Envelope>"""

PROBE = """<?xml version="1.0"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"
 xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"
 xmlns:dn="http://www.onvif.org/ver10/network/wsdl"
 xmlns:p="http://schemas.microsoft.com/windows/2006/08/wdp/print">
<s:Header><a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>
<a:MessageID>{message_id}</a:MessageID>
<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>
<s:Body><d:Probe><d:Types>{types}</d:Types></d:Probe></s:Body></s:Envelope>"""

WRONG_RELATES = "http://127.0.0.5:8000/onvif/device_service"
PRINTER = "http://127.0.0.6:8000/onvif/device_service"
ODD = "http://127.0.0.7:8080/onvif/device_service"


class Responder(threading.Thread):
    """Answers every Probe on the group (joined on lo) the way bad or odd
    devices do."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.sock.bind(("", WSD_PORT))
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                             socket.inet_aton(GROUP) + socket.inet_aton("127.0.0.1"))
        self.sock.settimeout(0.2)
        self.probes = 0
        self.stopping = False

    def run(self):
        while not self.stopping:
            try:
                data, sender = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            text = data.decode("utf-8", "replace")
            if "/discovery/Probe<" not in text or "MessageID>" not in text:
                continue
            self.probes += 1
            message_id = text.split("MessageID>")[1].split("<")[0].strip()
            answers = [
                b"\x00\xff garbage <e:Envelope",
                MATCHES.format(uuid="00000000-0000-0000-0000-000000000005",
                               relates_to="urn:uuid:00000000-0000-0000-0000-00000000dead",
                               types="nvt:NetworkVideoTransmitter", name="wrong", model="x",
                               xaddrs=WRONG_RELATES),
                MATCHES.format(uuid="00000000-0000-0000-0000-000000000006",
                               relates_to=message_id, types="p:PrintDeviceType",
                               name="printer", model="x", xaddrs=PRINTER),
                # Another prefix bound to the ONVIF namespace, escaped
                # scopes, an IPv6 and a bad XAddr before the IPv4 one.
                MATCHES.format(uuid="00000000-0000-0000-0000-000000000007",
                               relates_to=message_id,
                               types="p:PrintDeviceType nvt:NetworkVideoTransmitter",
                               name="Acme%20Vision%C3%A9", model="Cam%2F5000",
                               xaddrs=f"http://[fd00::7]:8080/onvif/device_service ftp://x/ {ODD}"),
            ]
            for a in answers:
                self.sock.sendto(a if isinstance(a, bytes) else a.encode(), sender)

    def stop(self):
        self.stopping = True
        self.join(2)
        self.sock.close()


class OnvifDiscoverTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cams = []
        cls.front = cls.fakecam("127.0.0.2", "--onvif", "0", "--onvif-name", "Front door")
        cls.back = cls.fakecam("127.0.0.3", "--onvif", "0")
        cls.plain = cls.fakecam("127.0.0.4")
        cls.responder = Responder()
        cls.responder.start()
        # Garbage on the group first: the fakecams must still answer.
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        for junk in (b"", b"\xff" * 1000, b"<a:Action>/discovery/Probe</a:Action><MessageID>"):
            s.sendto(junk, (GROUP, WSD_PORT))
        s.close()
        cls.vigil = Vigil(env={"VIGIL_ONVIF_DISCOVER_LOOPBACK": "1"}).start()
        r = cls.vigil.request("POST", "/api/v1/users", {
            "name": "vera", "password": "vera-pw-123456", "role": "operator",
            "cameras": {"*": ["view", "control"]}})
        assert r.status == 201, r.body
        r = cls.vigil.request("POST", "/api/v1/cameras", {
            "id": "front", "name": "Front", "source": f"rtsp://127.0.0.2:{cls.front.port}/cam1"})
        assert r.status == 201, r.body
        # Known by its ONVIF device only: its stream is elsewhere (a NAT'd
        # or relayed camera).
        r = cls.vigil.request("POST", "/api/v1/cameras", {
            "id": "odd", "name": "Odd", "source": "rtsp://127.0.0.9:8554/relay",
            "onvif": {"address": ODD}})
        assert r.status == 201, r.body

    @classmethod
    def fakecam(cls, address, *args):
        cam = Fakecam("--address", address, "--size", "320x240", "--no-sub", *args).start()
        cls.cams.append(cam)
        return cam

    @classmethod
    def tearDownClass(cls):
        try:
            cls.vigil.cleanup()
        finally:
            cls.responder.stop()
            for cam in cls.cams:
                cam.stop()

    def discover(self, **kwargs):
        return self.vigil.request("POST", DISCOVER, timeout=20, **kwargs)

    def by_address(self, devices):
        self.assertEqual(len(devices), len({d["address"] for d in devices}), devices)
        return {d["address"]: d for d in devices}

    def test_discover(self):
        started = time.monotonic()
        r = self.discover()
        took = time.monotonic() - started
        self.assertEqual(r.status, 200, r.body)
        found = self.by_address(r.json())
        print(f"# discovered in {took:.1f} s: {found}")
        self.assertLess(took, 6)
        self.assertEqual(found.get(self.front.onvif), {
            "address": self.front.onvif, "manufacturer": "Front door", "model": "fakecam",
            "camera": "front"})
        self.assertEqual(found.get(self.back.onvif), {
            "address": self.back.onvif, "manufacturer": "vigil", "model": "fakecam",
            "camera": None})
        self.assertEqual(found.get(ODD), {
            "address": ODD, "manufacturer": "Acme Visioné", "model": "Cam/5000",
            "camera": "odd"})
        hosts = {a.split("/")[2].rsplit(":", 1)[0] for a in found}
        self.assertNotIn("127.0.0.4", hosts)  # no --onvif
        self.assertNotIn(WRONG_RELATES, found)
        self.assertNotIn(PRINTER, found)
        self.assertGreater(self.responder.probes, 0)
        self.assertTrue(self.vigil.proc.poll() is None)

    def test_concurrent_requests_share_a_run(self):
        results = [None, None]

        def run(i):
            results[i] = self.discover()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        started = time.monotonic()
        for t in threads:
            t.start()
            time.sleep(0.5)
        for t in threads:
            t.join()
        took = time.monotonic() - started
        for r in results:
            self.assertEqual(r.status, 200, r.body)
            self.assertIn(self.front.onvif, self.by_address(r.json()))
        # One run of 3 s, not two after each other.
        self.assertLess(took, 5.5)
        self.assertIn("joins the running ONVIF discovery", self.vigil.log_text())

    def test_fakecam_answers_only_video_probes(self):
        """The fakecam's responder, probed directly: an NVT Probe gets each
        fakecam's ProbeMatches (relating to it), a printer Probe none."""
        def probe(types):
            message_id = f"urn:uuid:{uuid.uuid4()}"
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
            s.bind(("127.0.0.1", 0))
            s.sendto(PROBE.format(message_id=message_id, types=types).encode(), (GROUP, WSD_PORT))
            answers, deadline = [], time.monotonic() + 1.5
            while time.monotonic() < deadline:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    answers.append(s.recv(65536).decode("utf-8", "replace"))
                except socket.timeout:
                    break
            s.close()
            return message_id, [a for a in answers if "ProbeMatches" in a]

        message_id, answers = probe("dn:NetworkVideoTransmitter")
        for cam in (self.front, self.back):
            mine = [a for a in answers if cam.onvif in a]
            self.assertEqual(len(mine), 1, answers)
            self.assertIn(f"<wsa:RelatesTo>{message_id}</wsa:RelatesTo>", mine[0])
        _, answers = probe("p:PrintDeviceType")
        self.assertFalse([a for a in answers if "fakecam" in a], answers)

    def test_admin_only(self):
        r = self.discover(auth=("vera", "vera-pw-123456"))
        self.assertEqual(r.status, 403, r.body)
        r = self.discover(auth=None)
        self.assertEqual(r.status, 401, r.body)


if __name__ == "__main__":
    harness.main()
