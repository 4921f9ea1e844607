import { expect } from 'chai';
import { baseConfigSchema, loadConfig, ConfigError } from '@ridehail/shared';

describe('configuration', () => {
  it('applies the defaults of DESIGN §7', () => {
    const config = loadConfig(baseConfigSchema, { PORT: '3001' });
    expect(config.AMQP_URL).to.equal('amqp://localhost');
    expect(config.MONGO_URL).to.equal(undefined);
    expect(config.BROKER_PREFIX).to.equal('');
    expect(config.MONGO_DB_PREFIX).to.equal('');
    expect(config.MAX_ATTEMPTS).to.equal(5);
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
