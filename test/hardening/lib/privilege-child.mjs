// Run by test/hardening/privilege.test.ts inside a namespace, as root (MODE dump) or
// as nobody (MODE all), against a private build of the library:
//
//   node privilege-child.mjs LIBRARY MODE OTHER_NETNS
//
// dump: TCP sockets with every extension, and UNIX sockets; all: that, then a destroy,
// a destroy event subscription and entering another namespace, each of which needs a
// privilege. Prints one JSON line.
const [library, mode, other] = process.argv.slice(2);
const { SockDiag, watch } = await import(library);

const describe = (e) => ({ name: e?.name, code: e?.code ?? e?.cause?.code, message: e?.message, causeCode: e?.cause?.code });
const out = { uid: process.getuid() };
const diag = SockDiag.open();
try {
  const tcp = [...diag.inet({ protocol: 'tcp', ext: ['info', 'meminfo', 'skmeminfo', 'cong', 'vegasinfo', 'tos', 'tclass', 'shutdown'] })];
  out.tcp = tcp.map((s) => ({ inode: s.inode, state: s.state, mark: s.mark, md5sig: s.md5sig !== undefined, info: s.info !== undefined, skmeminfo: s.skmeminfo !== undefined, cong: s.cong, classId: s.classId }));
  out.unix = [...diag.unix()].map((s) => s.inode);
  if (mode === 'all') {
    try {
      for (const r of diag.destroy({ protocol: 'tcp', states: ['established'] })) out.destroyed = (out.destroyed ?? 0) + (r.error ? 0 : 1);
      out.destroy = { name: 'none' };
    } catch (e) {
      out.destroy = describe(e);
    }
    // Subscribe, then make and close a connection of our own: its destroy event is what arrives.
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 3000);
    try {
      const events = watch({ signal: stop.signal, protocols: ['tcp'] });
      const first = events.next();
      const net = await import('node:net');
      const server = net.createServer((c) => c.destroy());
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const client = net.connect(server.address().port, '127.0.0.1');
      client.on('error', () => {});
      await new Promise((resolve) => client.on('close', resolve));
      server.close();
      const r = await first;
      out.watch = r.done ? { name: 'none', received: false } : { name: 'none', received: true, mark: r.value.mark, sport: r.value.sport };
      await events.return();
    } catch (e) {
      out.watch = describe(e);
    } finally {
      clearTimeout(timer);
    }
    try {
      SockDiag.open({ netns: { name: other } }).close();
      out.netns = { name: 'none' };
    } catch (e) {
      out.netns = describe(e);
    }
  }
} finally {
  diag.close();
}
console.log(JSON.stringify(out));
