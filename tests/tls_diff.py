#!/usr/bin/env python3
"""tls_diff.py TLS_DUMP FIXTURE_DIR: differential check of the ClientHello
reader (src/tls, via tests/tools/tls_dump) against tshark's TLS dissector,
over every *.bin fixture. Compares the server name, ALPN protocols, the
offered versions, the legacy version, the non-GREASE cipher suite and
extension counts, and JA4 — recomputed here from tshark's fields (cipher
suites, extension types, signature algorithms), independently of the C code.
Exit 0: all agree; 1: a difference (printed); 77: tshark is not installed
(scripts/deps.sh installs it)."""
import hashlib, os, shutil, struct, subprocess, sys, tempfile

FIELDS = ['tls.handshake.extensions_server_name', 'tls.handshake.extensions_alpn_str',
          'tls.handshake.extensions.supported_version', 'tls.handshake.version',
          'tls.handshake.ciphersuite', 'tls.handshake.extension.type',
          'tls.handshake.sig_hash_alg', 'tls.handshake.sig_hash_alg_len', 'tls.handshake.type']


def grease(v):
    return (v & 0x0f0f) == 0x0a0a and (v >> 8) == (v & 0xff)


def to_pcap(datas, path):
    """Each data as one TCP segment 198.18.0.1:(40000+i) -> 198.18.0.2:443,
    in a pcap of raw IPv4 packets."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 101))
        for i, data in enumerate(datas):
            tcp = struct.pack('>HHIIBBHHH', 40000 + i, 443, 1, 0, 0x50, 0x18, 65535, 0, 0)
            ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp) + len(data), 1, 0, 64,
                             6, 0, bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2]))
            pkt = ip + tcp + data
            f.write(struct.pack('<IIII', i, 0, len(pkt), len(pkt)) + pkt)


def tshark(pcap):
    """tshark's fields, one dict per packet."""
    cmd = ['tshark', '-n', '-r', pcap, '-d', 'tcp.port==443,tls', '-T', 'fields',
           '-E', 'occurrence=a', '-E', 'aggregator=|']
    for f in FIELDS:
        cmd += ['-e', f]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    return [{f: (v.split('|') if v else []) for f, v in zip(FIELDS, line.split('\t'))}
            for line in out.decode('utf-8', 'replace').rstrip('\n').split('\n')]


def h12(s):
    return hashlib.sha256(s.encode()).hexdigest()[:12] if s else '000000000000'


def ja4(t):
    """JA4 from tshark's fields (technical_details/JA4.md). None for the ALPN
    part when tshark cannot show the first protocol's bytes."""
    ciphers = [int(c, 16) for c in t['tls.handshake.ciphersuite']]
    ciphers = [c for c in ciphers if not grease(c)]
    exts = [int(e) for e in t['tls.handshake.extension.type']]
    exts = [e for e in exts if not grease(e)]
    svs = [int(v, 16) for v in t['tls.handshake.extensions.supported_version']]
    svs = [v for v in svs if not grease(v)]
    version = max(svs) if t['tls.handshake.extensions.supported_version'] else \
        int(t['tls.handshake.version'][0], 16)
    vcode = {0x0304: '13', 0x0303: '12', 0x0302: '11', 0x0301: '10', 0x0300: 's3'}
    # signature algorithms: the lists of 0x000d, delegated_credentials (0x0022)
    # and signature_algorithms_cert (0x0032) share one field,
    # in extension order; keep 0x000d's
    algs = t['tls.handshake.sig_hash_alg']
    sig = []
    lens = [int(n) // 2 for n in t['tls.handshake.sig_hash_alg_len']]
    for e in [e for e in exts if e in (13, 34, 50)]:
        n = lens.pop(0)
        if e == 13:
            sig = [int(a, 16) for a in algs[:n]]
        algs = algs[n:]
    sig = [s for s in sig if not grease(s)]
    alpn = t['tls.handshake.extensions_alpn_str']
    if not alpn:
        a = '00'
    elif '\ufffd' in alpn[0]:
        a = None
    elif alpn[0][0].isalnum() and alpn[0][-1].isalnum():
        a = alpn[0][0] + alpn[0][-1]
    else:
        a = '%02x' % ord(alpn[0][0]) + ('%02x' % ord(alpn[0][-1]))
        a = a[0] + a[-1]
    head = 't%s%s%02d%02d' % (vcode.get(version, '00'), 'd' if 0 in exts else 'i',
                             min(len(ciphers), 99), min(len(exts), 99))
    clist = ','.join('%04x' % c for c in sorted(ciphers))
    elist = ','.join('%04x' % e for e in sorted(exts) if e not in (0, 0x10))
    if elist and sig:
        elist += '_' + ','.join('%04x' % s for s in sig)
    return head, a, h12(clist) + '_' + h12(elist)


def ours(dump, path):
    out = subprocess.run([dump, path], capture_output=True, text=True, check=True).stdout
    return dict(kv.split('=', 1) for kv in out.split()[1:])


def compare(dump, path, t):
    o = ours(dump, path)
    if t['tls.handshake.type'][:1] != ['1'] or o['verdict'] != 'done':
        return ['not read as a ClientHello: tshark %s, ours %s' % (t['tls.handshake.type'],
                                                                  o['verdict'])]
    diffs = []

    def same(what, a, b):
        if a != b:
            diffs.append('%s: tshark %r, ours %r' % (what, a, b))

    same('sni', (t['tls.handshake.extensions_server_name'] or [''])[0], o['sni'])
    alpn = t['tls.handshake.extensions_alpn_str']
    if not any('\ufffd' in a for a in alpn):
        same('alpn', ','.join(alpn[:4]), o['alpn'])
    same('n_alpn', str(len(alpn)), o['n_alpn'])
    svs = [v[2:] for v in t['tls.handshake.extensions.supported_version']
           if not grease(int(v, 16))]
    same('versions', ','.join(svs), o['versions'])
    same('legacy', t['tls.handshake.version'][0][2:], o['legacy'])
    head, a, hashes = ja4(t)
    same('ja4 a', head, o['ja4'][:8])
    if a is not None:
        same('ja4 alpn', a, o['ja4'][8:10])
    same('ja4 b,c', hashes, o['ja4'][11:])
    return diffs


def main():
    dump, fixtures = sys.argv[1], sys.argv[2]
    if not shutil.which('tshark'):
        print('SKIP: tshark not installed')
        return 77
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(fixtures) for f in fs
                   if f.endswith('.bin'))
    bad = 0
    datas = []
    for path in files:
        with open(path, 'rb') as f:
            datas.append(f.read())
    with tempfile.TemporaryDirectory() as tmp:
        to_pcap(datas, os.path.join(tmp, 'all.pcap'))
        ts = tshark(os.path.join(tmp, 'all.pcap'))
        if len(ts) != len(files):
            print('tshark read %d packets, not %d' % (len(ts), len(files)))
            return 1
        for path, t in zip(files, ts):
            diffs = compare(dump, path, t)
            print('%s %s' % ('DIFF' if diffs else 'same', os.path.relpath(path, fixtures)))
            for d in diffs:
                print('    ' + d)
            bad += bool(diffs)
    print('%d fixtures, %d differ' % (len(files), bad))
    return 1 if bad else 0


sys.exit(main())
