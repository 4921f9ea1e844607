import { expect } from 'chai';
import { amqpUrls, baseConfigSchema, firstAmqpUrl, loadConfig, ConfigError } from '@ridehail/shared';

describe('configuration', () => {
  it('applies the defaults of DESIGN §7', () => {
    const config = loadConfig(baseConfigSchema, { PORT: '3001' });
    expect(config.AMQP_URL).to.equal('amqp://localhost');
    expect(config.MONGO_URL).to.equal(undefined);
    expect(config.BROKER_PREFIX).to.equal('');
    expect(config.MONGO_DB_PREFIX).to.equal('');
    expect(config.MAX_ATTEMPTS).to.equal(5);
    expect(config.QUEUE_TYPE).to.equal('quorum');
  });

  it('takes QUEUE_TYPE quorum or classic, nothing else', () => {
    expect(loadConfig(baseConfigSchema, { PORT: '1', QUEUE_TYPE: 'classic' }).QUEUE_TYPE).to.equal('classic');
    expect(loadConfig(baseConfigSchema, { PORT: '1', QUEUE_TYPE: '' }).QUEUE_TYPE).to.equal('quorum');
    expect(() => loadConfig(baseConfigSchema, { PORT: '1', QUEUE_TYPE: 'stream' })).to.throw(/QUEUE_TYPE/);
  });

  it('takes AMQP_URL as one URL or the nodes of one cluster, comma separated, each an amqp(s) URL', () => {
    const nodes = 'amqp://guest:guest@127.0.0.1:5701, amqp://guest:guest@127.0.0.1:5702,amqps://u:p@rabbit-3:5671/vh';
    const config = loadConfig(baseConfigSchema, { PORT: '1', AMQP_URL: nodes });
    expect(config.AMQP_URL).to.equal(nodes);
    expect(amqpUrls(config.AMQP_URL)).to.deep.equal([
      'amqp://guest:guest@127.0.0.1:5701',
      'amqp://guest:guest@127.0.0.1:5702',
      'amqps://u:p@rabbit-3:5671/vh',
    ]);
    expect(firstAmqpUrl(config.AMQP_URL)).to.equal('amqp://guest:guest@127.0.0.1:5701');
    expect(firstAmqpUrl('amqp://localhost')).to.equal('amqp://localhost');
    for (const bad of ['http://localhost:5672', 'amqp://a:1,not a url', 'amqp://a:1,,', 'amqp://a:1,http://b:2', ','])
      expect(() => loadConfig(baseConfigSchema, { PORT: '1', AMQP_URL: bad }), bad).to.throw(/AMQP_URL/);
  });

  it('stops with a message naming each invalid variable', () => {
    expect(() => loadConfig(baseConfigSchema, { PORT: 'eighty', MONGO_URL: 'http://nope' }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(/PORT/)
      .and.matches(/MONGO_URL/);
  });

  it('refuses fewer than 3 attempts before parking', () => {
    expect(() => loadConfig(baseConfigSchema, { PORT: '1', MAX_ATTEMPTS: '2' })).to.throw(/MAX_ATTEMPTS/);
  });
});
