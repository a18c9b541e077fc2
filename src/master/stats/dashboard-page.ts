import {
  durationWindow,
  formatAge,
  formatBytes,
  formatMs,
  niceCeiling,
  quantileSeconds,
} from './dashboard-math.js';

/**
 * GET /dashboard: one self-contained page (inline CSS and script, no library, nothing fetched
 * but this server's / and /events). It polls / every second and keeps the last minutes of
 * rates and latencies itself; the master stores no history for it. The timeline comes from
 * /events (EventSource reconnects by itself). Untrusted text (log messages, names) only ever
 * goes into textContent.
 */
const STYLE = `
:root{color-scheme:light dark;--bg:#f6f7f9;--fg:#1b1f24;--muted:#5b6570;--card:#fff;--line:#d9dee4;
--accent:#1f6feb;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--grid:#e6e9ed}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9aa5b1;--card:#161b22;
--line:#30363d;--accent:#58a6ff;--ok:#3fb950;--warn:#d29922;--bad:#f85149;--grid:#21262d}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,sans-serif;background:var(--bg);color:var(--fg)}
header{padding:12px 16px;border-bottom:1px solid var(--line);background:var(--card)}
h1{font-size:18px;margin:0 0 4px}h2{font-size:15px;margin:0 0 8px}
main{padding:12px;display:grid;gap:12px;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr))}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px;min-width:0}
.wide{grid-column:1/-1}.muted{color:var(--muted)}
#conn{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;color:#fff;background:var(--bad)}
#conn.live{background:var(--ok)}
dl{display:flex;flex-wrap:wrap;gap:4px 16px;margin:4px 0 0}dl div{display:flex;gap:4px}dt{color:var(--muted)}dd{margin:0}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:4px 6px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}tr.old td{color:var(--muted)}
.st-ready{color:var(--ok)}.st-booting{color:var(--warn)}.st-closing{color:var(--muted)}
canvas{width:100%;height:200px;display:block}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:12px;margin-top:4px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
.meter{height:10px;background:var(--grid);border-radius:5px;overflow:hidden}
.meter b{display:block;height:100%;background:var(--accent)}
#events{list-style:none;margin:0;padding:0;max-height:360px;overflow:auto}
#events li{padding:3px 0;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
#events time{color:var(--muted);font-variant-numeric:tabular-nums;margin-right:6px}
.k{display:inline-block;font-size:11px;padding:0 6px;border-radius:8px;border:1px solid var(--line);margin-right:6px}
.k-error,.k-crash,.k-kill,.k-config-error,.k-reload-aborted{color:var(--bad);border-color:var(--bad)}
.k-warning,.k-backoff,.k-queue-full{color:var(--warn);border-color:var(--warn)}
.k-reload,.k-reload-done,.k-scale{color:var(--accent);border-color:var(--accent)}
@media (max-width:640px){
.cards thead{display:none}.cards tr{display:grid;grid-template-columns:1fr 1fr;padding:6px 0;border-bottom:1px solid var(--line)}
.cards td{border:0;text-align:left;padding:1px 4px;white-space:normal;overflow-wrap:anywhere}
.cards td::before{content:attr(data-label) " ";color:var(--muted)}}
`;

const SCRIPT = String.raw`
'use strict';
var quantileSeconds=${quantileSeconds.toString()};
var durationWindow=${durationWindow.toString()};
var formatBytes=${formatBytes.toString()};
var formatAge=${formatAge.toString()};
var formatMs=${formatMs.toString()};
var niceCeiling=${niceCeiling.toString()};
var WINDOW_S=300,QUANTILE_S=10,PALETTE=['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2','#17becf','#bcbd22','#7f7f7f'];
var $=function(id){return document.getElementById(id)};
var rps={},total=[],lat=[],durations=[],lastDoc=null,colorOf={},nextColor=0;
function el(tag,text,cls){var e=document.createElement(tag);if(text!=null)e.textContent=text;if(cls)e.className=cls;return e}
function colorFor(k){if(!(k in colorOf))colorOf[k]=PALETTE[nextColor++%PALETTE.length];return colorOf[k]}
function prune(a,now){while(a.length&&a[0][0]<now-WINDOW_S*1000)a.shift()}
function css(name){return getComputedStyle(document.documentElement).getPropertyValue(name).trim()}
function chart(canvas,series,unit,fmt){
  var dpr=window.devicePixelRatio||1,w=canvas.clientWidth,h=canvas.clientHeight;
  canvas.width=Math.round(w*dpr);canvas.height=Math.round(h*dpr);
  var c=canvas.getContext('2d');c.scale(dpr,dpr);c.clearRect(0,0,w,h);
  var now=Date.now(),max=0;
  series.forEach(function(s){s.points.forEach(function(p){if(p[1]>max)max=p[1]})});
  max=niceCeiling(max);
  var L=64,R=8,T=8,B=22,pw=w-L-R,ph=h-T-B;
  c.font='11px system-ui,sans-serif';c.fillStyle=css('--muted');c.strokeStyle=css('--grid');c.lineWidth=1;
  c.textAlign='right';c.textBaseline='middle';
  for(var i=0;i<=5;i++){var y=T+ph-ph*i/5;c.beginPath();c.moveTo(L,y);c.lineTo(L+pw,y);c.stroke();c.fillText(fmt(max*i/5),L-4,y)}
  c.textBaseline='top';
  for(var m=0;m<=5;m++){c.textAlign=m===0?'left':m===5?'right':'center';c.fillText(m===5?'now':'-'+(5-m)+(pw<360?'m':' min'),L+pw*m/5,T+ph+4)}
  c.save();c.translate(10,T+ph/2);c.rotate(-Math.PI/2);c.textBaseline='middle';c.fillText(unit,0,0);c.restore();
  series.forEach(function(s){
    c.strokeStyle=s.color;c.lineWidth=s.width||1.5;c.beginPath();
    s.points.forEach(function(p,j){var x=L+pw*(1-(now-p[0])/(WINDOW_S*1000)),y=T+ph-ph*Math.min(1,p[1]/max);if(j)c.lineTo(x,y);else c.moveTo(x,y)});
    c.stroke();
  });
}
function legend(id,series){var box=$(id);box.textContent='';series.forEach(function(s){var span=el('span',s.label);var i=el('i');i.style.background=s.color;span.prepend(i);box.append(span)})}
function num(n,d){return n.toLocaleString(undefined,{maximumFractionDigits:d||0})}
function cell(tr,label,text,cls){var td=el('td',text,cls);td.dataset.label=label;tr.append(td)}
function renderMaster(d){
  $('title').textContent='tsgun'+(d.name?' \u00b7 '+d.name:'');
  document.title=$('title').textContent+' dashboard';
  var dl=$('master');dl.textContent='';
  [['version',d.version],['Node',d.node],['pid',d.pid],['uptime',formatAge(d.uptimeSeconds)],['RSS',formatBytes(d.rssBytes)],
   ['workers',d.workers.current+' / '+d.workers.target],['reloads',d.counters.reloads],['respawns',d.counters.respawns],['killed',d.counters.killed]
  ].forEach(function(p){var div=el('div');div.append(el('dt',p[0]),el('dd',String(p[1])));dl.append(div)});
}
function renderWorkers(d){
  var body=$('workers').tBodies[0];body.textContent='';
  var gen=Math.max.apply(null,d.worker.map(function(w){return w.generation}).concat([0]));
  d.worker.slice().sort(function(a,b){return a.generation-b.generation||a.index-b.index}).forEach(function(w){
    var tr=el('tr');tr.dataset.pid=w.pid;if(w.generation<gen)tr.className='old';
    cell(tr,'#',String(w.index));cell(tr,'pid',String(w.pid));cell(tr,'state',w.state,'st-'+w.state);cell(tr,'gen',String(w.generation));
    cell(tr,'req/s',num(w.requestsPerSec,1));cell(tr,'in-flight',String(w.inflight));cell(tr,'conns',String(w.connections));
    var rep=w.rssBytes>0;cell(tr,'RSS',rep?formatBytes(w.rssBytes):'-');cell(tr,'lag p99',rep?formatMs(w.loopLagP99Ms):'-');
    cell(tr,'age',formatAge((Date.now()-Date.parse(w.startedAt))/1000));body.append(tr);
  });
}
function renderSockets(d){
  var box=$('sockets');box.textContent='';
  d.sockets.forEach(function(s){
    var div=el('div'),q=s.queue==null?null:s.queue;
    div.append(el('div',s.address+': '+(q==null?'queue unknown':num(q)+' / '+num(s.maxBacklog)+' waiting (backlog)')));
    var m=el('div',null,'meter'),b=el('b');b.style.width=(q==null?0:Math.min(100,100*q/Math.max(1,s.maxBacklog)))+'%';
    if(q!=null&&q>=s.maxBacklog)b.style.background=css('--bad');m.append(b);div.append(m);box.append(div);
  });
  $('queuefull').textContent='seconds with a full queue: '+num(d.counters.listenQueueFull);
}
function renderRouter(d){
  var sec=$('router-section'),r=d.router;sec.hidden=!r;if(!r)return;
  var dl=$('router');dl.textContent='';
  [['pid',r.pid==null?'-':r.pid],['state',r.state],['restarts',r.restarts],['pending',r.pending],['connections',r.connections]]
   .forEach(function(p){var div=el('div');div.append(el('dt',p[0]),el('dd',String(p[1])));dl.append(div)});
  var body=$('upstreams').tBodies[0];body.textContent='';
  r.upstreams.forEach(function(u){var tr=el('tr');cell(tr,'upstream',u.name);cell(tr,'requests',num(u.requests));cell(tr,'errors',num(u.errors));cell(tr,'retries',num(u.retries));cell(tr,'in-flight',num(u.inflight));body.append(tr)});
}
function record(d){
  var now=Date.now(),sum=0;
  d.worker.forEach(function(w){if(w.state==='closing')return;var k=String(w.pid);(rps[k]=rps[k]||[]).push([now,w.requestsPerSec]);sum+=w.requestsPerSec});
  total.push([now,sum]);prune(total,now);
  Object.keys(rps).forEach(function(k){prune(rps[k],now);if(!rps[k].length)delete rps[k]});
  // Another master (USR2, restart): its histogram starts again, and during a USR2 both answer.
  if(lastDoc&&lastDoc.pid!==d.pid)durations=[];
  durations.push([now,d.requestDuration.classes]);
  while(durations.length&&durations[0][0]<now-QUANTILE_S*1000)durations.shift();
  var win=durationWindow(durations.length>1?durations[0][1]:null,d.requestDuration.classes);
  if(win===null&&durations.length>1)durations.splice(0,durations.length-1);
  var b=d.requestDuration.bucketsSeconds;
  lat.push([now,[0.5,0.9,0.99].map(function(q){var s=win&&quantileSeconds(b,win,q);return s==null?null:s*1000})]);prune(lat,now);
}
function draw(){
  var s=[{label:'total',color:css('--fg'),width:2.5,points:total}];
  Object.keys(rps).forEach(function(k){s.push({label:'pid '+k,color:colorFor(k),points:rps[k]})});
  chart($('rps'),s,'requests/s',function(v){return num(v,v<10?1:0)});legend('rps-legend',s);
  var names=['p50','p90','p99'],colors=['#2ca02c','#ff7f0e','#d62728'];
  var ls=names.map(function(n,i){return{label:n+' (last '+QUANTILE_S+' s)',color:colors[i],points:lat.filter(function(p){return p[1][i]!=null}).map(function(p){return[p[0],p[1][i]]})}});
  chart($('lat'),ls,'duration',function(v){return formatMs(v)});legend('lat-legend',ls);
}
function setConn(ok,text){var c=$('conn');c.className=ok?'live':'';c.textContent=text}
function poll(){
  var ctl=new AbortController(),t=setTimeout(function(){ctl.abort()},3000);
  fetch('./',{cache:'no-store',signal:ctl.signal}).then(function(r){if(!r.ok)throw new Error('HTTP '+r.status);return r.json()}).then(function(d){
    record(d);lastDoc=d;renderMaster(d);renderWorkers(d);renderSockets(d);renderRouter(d);draw();setConn(true,'live');
  }).catch(function(e){setConn(false,'disconnected: retrying ('+e.message+')')}).finally(function(){clearTimeout(t);setTimeout(poll,1000)});
}
var lastId='',es=null,MAX_EVENTS=300;
function addEvent(e){
  var li=el('li');li.dataset.kind=e.kind;
  var time=el('time',new Date(e.time).toLocaleTimeString());time.dateTime=e.time;
  var more=[];
  if(e.workerPid!=null)more.push('pid '+e.workerPid);
  if(e.generation!=null)more.push('gen '+e.generation);
  if(e.code!=null)more.push('code '+e.code);
  if(e.signal)more.push(e.signal);
  if(e.reason)more.push(e.reason);
  li.append(time,el('span',e.kind,'k k-'+e.kind),el('span',e.msg),el('span',more.length?' ('+more.join(', ')+')':'','muted'));
  var list=$('events');list.prepend(li);while(list.children.length>MAX_EVENTS)list.lastChild.remove();
}
function listen(){
  es=new EventSource('events'+(lastId?'?last='+encodeURIComponent(lastId):''));
  es.onmessage=function(m){lastId=m.lastEventId||lastId;try{addEvent(JSON.parse(m.data))}catch(err){}};
  // A refused stream (503: too many) is not retried by the browser: try again later.
  es.onerror=function(){if(es.readyState===2)setTimeout(listen,5000)};
}
window.addEventListener('resize',function(){if(lastDoc)draw()});
poll();listen();
`;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>tsgun dashboard</title><style>${STYLE}</style></head>
<body><header><h1><span id="title">tsgun</span> <span id="conn">connecting</span></h1><dl id="master"></dl></header>
<main>
<section class="wide"><h2>Workers</h2><table id="workers" class="cards"><thead><tr><th>#</th><th>pid</th><th>state</th><th>gen</th>
<th>req/s</th><th>in-flight</th><th>conns</th><th>RSS</th><th>lag p99</th><th>age</th></tr></thead><tbody></tbody></table></section>
<section><h2>Requests per second</h2><canvas id="rps" role="img" aria-label="requests per second, total and per worker, last 5 minutes"></canvas><div class="legend" id="rps-legend"></div></section>
<section><h2>Request duration</h2><canvas id="lat" role="img" aria-label="request duration percentiles, last 5 minutes"></canvas><div class="legend" id="lat-legend"></div></section>
<section><h2>Listen queues</h2><div id="sockets"></div><p class="muted" id="queuefull"></p></section>
<section id="router-section" hidden><h2>Router</h2><dl id="router"></dl>
<table id="upstreams" class="cards"><thead><tr><th>upstream</th><th>requests</th><th>errors</th><th>retries</th><th>in-flight</th></tr></thead><tbody></tbody></table></section>
<section class="wide"><h2>Events</h2><ul id="events" tabindex="0" aria-label="events, newest first"></ul></section>
</main><script>${SCRIPT}</script></body></html>
`;
