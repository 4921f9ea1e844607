// The pure parts of the demo/audit library: causal timelines, summary recomputation, metrics parsing, log lines.
import { expect } from 'chai';
import { metricValue } from '../support/system/api';
import { driverSummaryDrift, riderSummaryDrift } from '../support/system/audit';
import type { DriverTripsView, RiderTripsView } from '../support/system/http';
import { humanLogLine } from '../support/system/stack';
import type { TappedMessage } from '../support/system/tap';
import { buildTimeline, renderTimeline } from '../support/system/timeline';

const t0 = Date.parse('2025-01-01T10:00:00.000Z');

function message(id: string, type: string, source: string, atMs: number, causationId?: string): TappedMessage {
  return {
    envelope: {
      id,
      type,
      version: 1,
      occurredAt: new Date(t0 + atMs).toISOString(),
      source,
      correlationId: 'ride-1',
      causationId,
      payload: {},
    },
    exchange: `${source.split('-')[0]}.events`,
    routingKey: type,
    receivedAt: t0 + atMs + 1,
  };
}

describe('a saga timeline built from tapped messages', () => {
  const messages = [
    message('m4', 'ride.confirmed', 'ride-service', 40, 'm3'),
    message('m1', 'ride.requested', 'ride-service', 0),
    message('m2', 'driver.assigned', 'driver-service', 10, 'm1'),
    message('m5', 'fare.calculated', 'payment-service', 12, 'm1'),
    message('m3', 'payment.authorized', 'payment-service', 30, 'm2'),
    message('m2', 'driver.assigned', 'driver-service', 10, 'm1'),
  ];

  it('hangs every message under the message that caused it, in time order, showing a republished one once', () => {
    const roots = buildTimeline(messages);
    expect(roots.map((r) => r.message.envelope.id)).to.deep.equal(['m1']);
    expect(roots[0]!.children.map((c) => c.message.envelope.id)).to.deep.equal(['m2', 'm5']);
    expect(roots[0]!.children[0]!.children[0]!.children[0]!.message.envelope.id).to.equal('m4');
  });

  it('makes a message whose cause it never saw a root of its own', () => {
    const roots = buildTimeline([
      message('x', 'ride.cancelled', 'ride-service', 5),
      message('y', 'driver.released', 'driver-service', 9, 'unknown'),
    ]);
    expect(roots.map((r) => r.message.envelope.id)).to.deep.equal(['x', 'y']);
  });

  it('renders one line per message with +ms, service, id and cause', () => {
    const lines = renderTimeline(buildTimeline(messages), { since: t0, idLength: 0 });
    expect(lines).to.have.length(5);
    expect(lines[0]).to.match(/^ride\.requested\s+\+0ms\s+ride-service\s+id m1\s+caused by POST \/rides$/);
    expect(lines[1]).to.match(/^├─ driver\.assigned\s+\+10ms\s+driver-service\s+id m2\s+caused by m1$/);
    expect(lines[4]).to.match(/^└─ fare\.calculated\s+\+12ms/);
  });
});

const riderView = (summary: Partial<RiderTripsView['summary']>, trips: RiderTripsView['trips']): RiderTripsView => ({
  riderId: 'r1',
  summary: { requested: 0, completed: 0, cancelled: 0, rejected: 0, spent: { amount: 0, currency: 'EUR' }, lastTripAt: null, ...summary },
  trips,
});

describe('recomputing a rider summary from the trip list', () => {
  const trips: RiderTripsView['trips'] = [
    {
      rideId: 'a',
      status: 'COMPLETED',
      requestedAt: '2025-01-01T10:00:00.000Z',
      endedAt: '2025-01-01T10:20:00.000Z',
      paid: { amount: 900, currency: 'EUR' },
    },
    { rideId: 'b', status: 'CANCELLED', requestedAt: '2025-01-01T11:00:00.000Z', endedAt: '2025-01-01T11:01:00.000Z' },
    { rideId: 'c', status: 'REJECTED', requestedAt: '2025-01-01T12:00:00.000Z', endedAt: '2025-01-01T12:00:01.000Z' },
  ];

  it('finds no drift when the stored summary adds up', () => {
    const view = riderView(
      {
        requested: 3,
        completed: 1,
        cancelled: 1,
        rejected: 1,
        spent: { amount: 900, currency: 'EUR' },
        lastTripAt: '2025-01-01T12:00:01.000Z',
      },
      trips,
    );
    expect(riderSummaryDrift(view)).to.deep.equal([]);
  });

  it('names each field that differs, with stored and recomputed values', () => {
    const view = riderView(
      {
        requested: 4,
        completed: 1,
        cancelled: 1,
        rejected: 1,
        spent: { amount: 1800, currency: 'EUR' },
        lastTripAt: '2025-01-01T12:00:01.000Z',
      },
      trips,
    );
    expect(riderSummaryDrift(view).map((v) => v.detail)).to.deep.equal([
      'rider r1: summary.requested is 4, recomputed 3',
      'rider r1: summary.spent.amount is 1800, recomputed 900',
    ]);
  });

  it('flags a lastTripAt older than a trip change, and one set without trips', () => {
    expect(
      riderSummaryDrift(
        riderView(
          {
            requested: 3,
            completed: 1,
            cancelled: 1,
            rejected: 1,
            spent: { amount: 900, currency: 'EUR' },
            lastTripAt: '2025-01-01T11:00:00.000Z',
          },
          trips,
        ),
      ),
    ).to.have.length(1);
    expect(riderSummaryDrift(riderView({ lastTripAt: '2025-01-01T11:00:00.000Z' }, []))).to.have.length(1);
  });
});

describe('recomputing a driver summary from the trip list', () => {
  const view = (summary: DriverTripsView['summary']): DriverTripsView => ({
    driverId: 'd1',
    summary,
    trips: [
      {
        rideId: 'a',
        status: 'COMPLETED',
        assignedAt: '2025-01-01T10:00:00.000Z',
        endedAt: '2025-01-01T10:20:00.000Z',
        earned: { amount: 900, currency: 'EUR' },
        rating: 5,
      },
      {
        rideId: 'b',
        status: 'COMPLETED',
        assignedAt: '2025-01-01T11:00:00.000Z',
        endedAt: '2025-01-01T11:20:00.000Z',
        earned: { amount: 500, currency: 'EUR' },
        rating: 4,
      },
      { rideId: 'c', status: 'CANCELLED', assignedAt: '2025-01-01T12:00:00.000Z', endedAt: '2025-01-01T12:00:03.000Z' },
    ],
  });

  it('accepts the stored totals when they equal the recomputation (average to two decimals)', () => {
    const ok = view({
      completed: 2,
      earnings: { amount: 1400, currency: 'EUR' },
      rating: { average: 4.5, count: 2 },
      lastTripAt: '2025-01-01T12:00:03.000Z',
    });
    expect(driverSummaryDrift(ok)).to.deep.equal([]);
  });

  it('reports earnings and rating drift', () => {
    const drifted = view({
      completed: 2,
      earnings: { amount: 900, currency: 'EUR' },
      rating: { average: 5, count: 1 },
      lastTripAt: '2025-01-01T12:00:03.000Z',
    });
    expect(driverSummaryDrift(drifted).map((v) => v.detail)).to.deep.equal([
      'driver d1: summary.earnings.amount is 900, recomputed 1400',
      'driver d1: summary.rating.count is 1, recomputed 2',
      'driver d1: summary.rating.average is 5, recomputed 4.5',
    ]);
  });
});

describe('reading Prometheus text', () => {
  const text = [
    '# HELP outbox_pending Outbox messages not yet dispatched',
    '# TYPE outbox_pending gauge',
    'outbox_pending{service="ride-service"} 3',
    'outbox_pending_other 7',
    'messages_retried_total{service="payment-service",type="driver.assigned"} 2',
    'messages_retried_total{service="payment-service",type="ride.completed"} 1',
  ].join('\n');

  it('sums a metric family over its label sets and ignores look-alike names', () => {
    expect(metricValue(text, 'outbox_pending')).to.equal(3);
    expect(metricValue(text, 'messages_retried_total')).to.equal(3);
    expect(metricValue(text, 'absent')).to.equal(undefined);
  });
});

describe('service log lines in the stack output', () => {
  it('compacts a winston JSON line to time, level, message and context', () => {
    const line = JSON.stringify({
      level: 'info',
      message: 'listening on port 3001',
      service: 'ride-service',
      timestamp: '2025-01-01T10:00:00.123Z',
      port: 3001,
    });
    expect(humanLogLine(line)).to.equal('10:00:00.123 info  listening on port 3001  port=3001');
  });

  it('leaves anything else as it is', () => {
    expect(humanLogLine('plain text {')).to.equal('plain text {');
  });
});
